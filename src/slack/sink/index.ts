import type {
  MessageKey,
  NotificationSink,
  OutgoingFile,
  OutgoingMessage,
  PostedRef,
} from "../../services/outbox/sink.js";
import { SinkError } from "../../services/outbox/sink.js";
import type { WebClient } from "../client.js";
import { NO_FILE_RETURNED, uploadPngOrThrow } from "../files/upload.js";
import { classifySlackError } from "./errors.js";
import { METADATA_OF, renderMessage } from "./render.js";

/** History pages read while reconciling (200 messages each). */
const RECONCILE_MAX_PAGES = 10;
const HISTORY_PAGE_SIZE = 200;

interface MetadataMessage {
  ts?: string;
  metadata?: { event_type?: string; event_payload?: Record<string, unknown> };
}

/** Runs one Web API call, turning its failure into a SinkError the outbox understands. */
async function call<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw classifySlackError(err);
  }
}

/**
 * Delivers outbox messages to Slack: renders each kind as Block Kit with message metadata (so a
 * post can be found again after a crash), and sorts Slack's failures into SinkErrors.
 */
export function createSlackSink(slack: WebClient): NotificationSink {
  return {
    async post(channel: string, msg: OutgoingMessage): Promise<PostedRef> {
      const rendered = renderMessage(msg);
      const res = await call(() =>
        slack.chat.postMessage({
          channel,
          text: rendered.text,
          blocks: rendered.blocks,
          unfurl_links: false,
          metadata: rendered.metadata,
        }),
      );
      if (!res.ts) throw SinkError.transient("no_ts_in_response");
      return { channel: res.channel ?? channel, id: res.ts };
    },

    async update(ref: PostedRef, msg: OutgoingMessage): Promise<void> {
      const rendered = renderMessage(msg);
      await call(() =>
        slack.chat.update({
          channel: ref.channel,
          ts: ref.id,
          text: rendered.text,
          blocks: rendered.blocks,
          // An erased lead's message also loses the alert's metadata (its lead id).
          ...(msg.kind === "erasure" ? { metadata: rendered.metadata } : {}),
        }),
      );
    },

    async findPosted(channel: string, key: MessageKey, since: Date) {
      const { eventType, idField } = METADATA_OF[key.kind];
      let cursor: string | undefined;
      for (let page = 0; page < RECONCILE_MAX_PAGES; page++) {
        const res = await call(() =>
          slack.conversations.history({
            channel,
            oldest: String(Math.floor(since.getTime() / 1000)),
            include_all_metadata: true,
            limit: HISTORY_PAGE_SIZE,
            ...(cursor ? { cursor } : {}),
          }),
        );
        const messages = (res.messages ?? []) as MetadataMessage[];
        const hit = messages.find(
          (m) =>
            m.metadata?.event_type === eventType &&
            String(m.metadata.event_payload?.[idField]) === String(key.id),
        );
        if (hit?.ts) return { channel, id: hit.ts };
        cursor = res.response_metadata?.next_cursor || undefined;
        if (!res.has_more || !cursor) return undefined;
      }
      return undefined;
    },

    async openDm(userId: string): Promise<string> {
      const opened = await call(() => slack.conversations.open({ users: userId }));
      const id = opened.channel?.id;
      if (!id) throw SinkError.transient("no_channel_in_response");
      return id;
    },

    async upload(channel: string, file: OutgoingFile): Promise<{ fileId: string }> {
      const fileId = await call(() =>
        uploadPngOrThrow(slack, {
          png: file.bytes,
          filename: file.filename,
          title: file.title,
          altText: file.altText,
          channelId: channel,
          comment: file.comment,
        }),
      );
      if (!fileId) throw SinkError.transient(NO_FILE_RETURNED);
      return { fileId };
    },
  };
}
