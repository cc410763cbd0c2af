import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

export type MessageType = 'text' | 'image' | 'file' | 'audio' | 'system';

@Entity({ name: 'messages' })
export class Message {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('uuid', { name: 'room_id' }) roomId: string;
  @Column('uuid', { name: 'sender_id' }) senderId: string;
  @Column('text', { default: '' }) content: string;
  @Column('text', { default: 'text' }) type: MessageType;
  @Column('text', { name: 'file_url', nullable: true }) fileUrl: string | null;
  @Column('text', { name: 'file_name', nullable: true }) fileName: string | null;
  @Column('bigint', { name: 'file_size', nullable: true }) fileSize: string | null;
  @Column('boolean', { name: 'is_edited', default: false }) isEdited: boolean;
  @Column('boolean', { name: 'is_deleted', default: false }) isDeleted: boolean;
  @Column('uuid', { name: 'reply_to_id', nullable: true }) replyToId: string | null;
  @Column('bigint') seq: string;
  @Column('bigint') version: string;
  @Column('uuid', { name: 'client_msg_id', nullable: true }) clientMsgId: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}
