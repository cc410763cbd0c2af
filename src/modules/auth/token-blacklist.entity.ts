import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

@Entity({ name: 'token_blacklists' })
export class TokenBlacklist {
  @PrimaryGeneratedColumn({ type: 'bigint' }) id: string;
  @Column('text') jti: string;
  @Column('timestamptz', { name: 'expires_at' }) expiresAt: Date;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
}
