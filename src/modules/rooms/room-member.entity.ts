import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

export type MemberRole = 'admin' | 'member';

@Entity({ name: 'room_members' })
export class RoomMember {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('uuid', { name: 'room_id' }) roomId: string;
  @Column('uuid', { name: 'user_id' }) userId: string;
  @Column('text', { default: 'member' }) role: MemberRole;
  @Column('timestamptz', { name: 'read_at', nullable: true }) readAt: Date | null;
  @Column('timestamptz', { name: 'joined_at', default: () => 'now()' }) joinedAt: Date;
}
