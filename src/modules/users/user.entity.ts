import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

@Entity({ name: 'users' })
export class User {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('text') username: string;
  @Column('text') email: string;
  @Column('text') password: string;
  @Column('text', { default: '' }) avatar: string;
  @Column('text', { default: 'Hey there! I am using ChatApp' }) status: string;
  @Column('boolean', { name: 'is_online', default: false }) isOnline: boolean;
  @Column('timestamptz', { name: 'last_seen', default: () => 'now()' }) lastSeen: Date;
  @Column('timestamptz', { name: 'username_changed_at', nullable: true }) usernameChangedAt: Date | null;
  @Column('integer', { name: 'token_version', default: 0 }) tokenVersion: number;
  @Column('text', { name: 'token_keep_jti', nullable: true }) tokenKeepJti: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}
