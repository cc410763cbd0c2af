import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

export type RoomType = 'public' | 'private' | 'direct';

@Entity({ name: 'rooms' })
export class Room {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('text') name: string;
  @Column('text', { default: '' }) description: string;
  @Column('text', { default: 'public' }) type: RoomType;
  @Column('uuid', { name: 'created_by' }) createdBy: string;
  /** `<lower uuid>:<higher uuid>` for direct rooms: one room per unordered pair. */
  @Column('text', { name: 'dm_key', nullable: true }) dmKey: string | null;
  /** The room's change sequence: every new, edited or deleted message takes the next value. */
  @Column('bigint', { name: 'last_seq', default: 0 }) lastSeq: string;
  @Column('timestamptz', { name: 'last_message_at', nullable: true }) lastMessageAt: Date | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}
