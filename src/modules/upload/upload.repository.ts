import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

@Injectable()
export class UploadRepository {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  async insert(u: { storedName: string; originalName: string; mime: string; size: number; uploadedBy: string }): Promise<void> {
    await this.ds.query(
      `INSERT INTO uploads (stored_name, original_name, mime, size, uploaded_by) VALUES ($1, $2, $3, $4, $5)`,
      [u.storedName, u.originalName, u.mime, u.size, u.uploadedBy],
    );
  }

  async exists(storedName: string): Promise<boolean> {
    const rows = await this.ds.query(`SELECT 1 FROM uploads WHERE stored_name = $1`, [storedName]);
    return rows.length > 0;
  }
}
