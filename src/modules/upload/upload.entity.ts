import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

@Entity({ name: 'uploads' })
export class Upload {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('text', { name: 'stored_name' }) storedName: string;
  @Column('text', { name: 'original_name' }) originalName: string;
  @Column('text') mime: string;
  @Column('bigint') size: string;
  @Column('uuid', { name: 'uploaded_by' }) uploadedBy: string;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
}
