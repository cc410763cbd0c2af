import { Inject, Injectable } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { AuthUser } from '../../common/auth/auth-user';
import { Clock } from '../../common/clock';
import { DomainError } from '../../common/errors/domain-error';
import { pageParams, totalPages } from '../../common/pagination';
import { charLength, hasInvalidText } from '../../common/validation/uuid';
import { APP_CONFIG } from '../../config/app-config';
import type { AppConfig } from '../../config/env';
import { RealtimeService } from '../../realtime/realtime.service';
import { RoomAccess } from '../rooms/rooms.access';
import { UPLOAD_URL_PREFIX } from '../upload/upload.service';
import { ChangesDto, MessageDto, MessagePageDto } from './dto/message.dto';
import { toMessageDto, Row } from './message.mapper';
import { MESSAGE_CREATED, MESSAGE_DELETED, MESSAGE_EDITED, MessageDeletedEvent, MessageEvent } from './messages.events';
import { MessageWriter } from './message-writer';
import { MessagesRepository } from './messages.repository';
import { MAX_CONTENT_CHARS, SendMessageInput } from './send-message.input';

const EDIT_WINDOW_MS = 3 * 60 * 1000;
const STORED_NAME = /^[0-9a-f-]{36}\.[a-z0-9]{2,5}$/;
const bad = (m: string) => new DomainError('BAD_REQUEST', m);
const forbidden = (m: string) => new DomainError('FORBIDDEN', m);

export interface SendResult {
  message: MessageDto;
  /** true when client_msg_id matched an earlier send: nothing new was stored or broadcast */
  duplicate: boolean;
}

/** The one message path: REST and WebSocket both call these methods. */
@Injectable()
export class MessagesService {
  private readonly online = (id: string) => this.realtime.isOnline(id);

  constructor(
    private readonly repo: MessagesRepository,
    private readonly writer: MessageWriter,
    private readonly access: RoomAccess,
    private readonly realtime: RealtimeService,
    private readonly events: EventEmitter2,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  private dto(row: Row): MessageDto {
    // Messages are shown to many people: the sender object never carries an e-mail address.
    return toMessageDto(row, '', this.online);
  }

  /**
   * Validated input → stored message → `new_message` to every member (after the commit).
   * `notMemberMessage` is the transport's text for a non-member (WS: "Not a room member").
   */
  async send(me: AuthUser, input: SendMessageInput, notMemberMessage = 'Not a room member'): Promise<SendResult> {
    const info = await this.access.requireMember(me.id, input.roomId, notMemberMessage, notMemberMessage);
    let replyTo: Row | null = null;
    if (input.replyToId) {
      replyTo = await this.repo.findInRoom(input.replyToId, input.roomId);
      if (!replyTo) throw bad('reply_to_id must be a message in the same room');
    }
    if (input.fileUrl !== null) {
      const name = input.fileUrl.startsWith(UPLOAD_URL_PREFIX) ? input.fileUrl.slice(UPLOAD_URL_PREFIX.length) : '';
      const upload = STORED_NAME.test(name) ? await this.repo.uploadByStoredName(name) : null;
      if (!upload) throw bad('file_url must be a file uploaded to this server');
      input.fileName = input.fileName ?? upload.original_name;
      input.fileSize = Number(upload.size);
    }
    let row: Row | null;
    try {
      // one literal (not `{ ...input, senderId }`): a fixed shape on the hot path (see insertedRow)
      row = await this.writer.write({
        roomId: input.roomId,
        senderId: me.id,
        content: input.content,
        type: input.type,
        fileUrl: input.fileUrl,
        fileName: input.fileName,
        fileSize: input.fileSize,
        replyToId: input.replyToId,
        clientMsgId: input.clientMsgId,
      });
    } catch (e) {
      const constraint = (e as { driverError?: { constraint?: string } }).driverError?.constraint;
      if (constraint === 'UQ_messages_sender_client_msg' && input.clientMsgId) {
        return this.duplicateOf(me, input);
      }
      if (constraint === 'messages_reply_to_id_fkey') throw bad('reply_to_id must be a message in the same room');
      throw e;
    }
    if (!row) throw new DomainError('NOT_FOUND', notMemberMessage);
    if (replyTo) {
      // the replied-to message's columns become rt_*, its sender's (s_*) become rs_* as MESSAGE_SELECT has them
      for (const [k, v] of Object.entries(replyTo)) row[k.startsWith('s_') ? `rs_${k.slice(2)}` : `rt_${k}`] = v;
    }
    const message = this.dto(row);
    this.events.emit(MESSAGE_CREATED, { roomId: input.roomId, message, memberIds: info.memberIds } satisfies MessageEvent);
    return { message, duplicate: false };
  }

  private async duplicateOf(me: AuthUser, input: SendMessageInput): Promise<SendResult> {
    const original = await this.repo.findByClientId(me.id, input.clientMsgId!);
    if (!original) throw new DomainError('CONFLICT', 'client_msg_id conflict, retry');
    const same =
      original.room_id === input.roomId &&
      (original.is_deleted || (original.content === input.content && original.type === input.type && (original.file_url ?? null) === input.fileUrl));
    if (!same) throw new DomainError('CONFLICT', 'client_msg_id was already used for a different message');
    return { message: this.dto(original), duplicate: true };
  }

  async history(me: AuthUser, roomId: string, rawPage: unknown, rawLimit: unknown): Promise<MessagePageDto> {
    await this.access.requireMember(me.id, roomId, 'you are not a member of this room');
    const { page, limit } = pageParams(rawPage, rawLimit, 50, 100);
    const [{ rows, total }, partnerReadAt] = await Promise.all([
      this.repo.page(roomId, limit, (page - 1) * limit),
      this.repo.partnerReadAt(roomId, me.id),
    ]);
    return {
      data: rows.map((r) => this.dto(r)),
      total,
      page,
      limit,
      total_pages: totalPages(total, limit),
      partner_read_at: partnerReadAt,
    };
  }

  /** Messages whose version is greater than `after` (resume after reconnect). */
  async changes(me: AuthUser, roomId: string, after: number, rawLimit?: unknown): Promise<ChangesDto> {
    await this.access.requireMember(me.id, roomId, 'you are not a member of this room');
    const limit = pageParams('1', rawLimit, 500, 1000).limit;
    const lastSeq = (await this.repo.lastSeq(roomId)) ?? 0;
    if (lastSeq - after > this.config.SYNC_MAX_GAP) {
      return { data: [], last_seq: lastSeq, has_more: false, resync_required: true };
    }
    const rows = await this.repo.changes(roomId, after, limit + 1);
    const hasMore = rows.length > limit;
    return {
      data: rows.slice(0, limit).map((r) => this.dto(r)),
      last_seq: lastSeq,
      has_more: hasMore,
      resync_required: false,
    };
  }

  async edit(me: AuthUser, id: string, content: unknown): Promise<MessageDto> {
    if (typeof content !== 'string' || content === '') {
      throw new DomainError('VALIDATION_FAILED', 'Validation failed', [{ field: 'content', constraints: ['content should not be empty'] }]);
    }
    if (content.trim() === '' || charLength(content) > MAX_CONTENT_CHARS) throw bad('Message content must be 1-2000 characters');
    if (hasInvalidText(content)) throw bad('Message content contains invalid characters');
    const { roomId, memberIds, row } = await this.repo.ds.transaction(async (em) => {
      const m = await this.repo.lockForChange(em, id);
      if (!m) throw forbidden('message not found');
      const info = await this.access.get(m.room_id as string);
      if (!info || (info.type !== 'public' && !info.members.has(me.id))) throw forbidden('message not found');
      if (m.sender_id !== me.id) throw forbidden('you can only edit your own messages');
      if (!info.members.has(me.id)) throw forbidden('you are not a member of this room');
      if (m.is_deleted) throw forbidden('cannot edit a deleted message');
      if (this.clock.now().getTime() - (m.created_at as Date).getTime() > EDIT_WINDOW_MS) {
        throw forbidden('messages can only be edited within 3 minutes of sending');
      }
      if (m.read_by_other) throw forbidden('cannot edit a message the recipient has already read');
      const version = await this.repo.nextSeq(em, m.room_id as string);
      await this.repo.applyEdit(em, id, content, version);
      // read inside the transaction: the event leaves right after the commit, with no other I/O in
      // between, so live frames of a room keep the order of their room sequence
      return { roomId: m.room_id as string, memberIds: info.memberIds, row: await this.repo.findById(id, em) };
    });
    const message = this.dto(row!);
    this.events.emit(MESSAGE_EDITED, { roomId, message, memberIds } satisfies MessageEvent);
    return message;
  }

  async remove(me: AuthUser, id: string): Promise<{ message: string }> {
    const ev = await this.repo.ds.transaction(async (em) => {
      const m = await this.repo.lockForChange(em, id);
      if (!m) throw new DomainError('NOT_FOUND', 'Message not found');
      const info = await this.access.get(m.room_id as string);
      if (!info || (info.type !== 'public' && !info.members.has(me.id))) throw new DomainError('NOT_FOUND', 'Message not found');
      const own = m.sender_id === me.id;
      const moderator = !own && info.type !== 'direct' && info.members.get(me.id) === 'admin';
      if (!own && !moderator) throw forbidden('you can only delete your own messages');
      if (!info.members.has(me.id)) throw forbidden('you are not a member of this room');
      if (m.is_deleted) throw forbidden('message already deleted');
      if (own) {
        if (this.clock.now().getTime() - (m.created_at as Date).getTime() > EDIT_WINDOW_MS) {
          throw forbidden('messages can only be deleted within 3 minutes of sending');
        }
        if (m.read_by_other) throw forbidden('cannot delete a message the recipient has already read');
      }
      const version = await this.repo.nextSeq(em, m.room_id as string);
      await this.repo.applyDelete(em, id, version);
      return { roomId: m.room_id as string, id, version, seq: Number(m.seq), memberIds: info.memberIds };
    });
    // no I/O between the commit and the event (live frames keep the room-sequence order)
    this.events.emit(MESSAGE_DELETED, {
      roomId: ev.roomId,
      id,
      seq: ev.seq,
      version: ev.version,
      memberIds: ev.memberIds,
    } satisfies MessageDeletedEvent);
    return { message: 'Message deleted successfully' };
  }
}
