import type { WebClient } from "../client.js";

/** A PNG to upload: into a channel (a visible file message), or unshared for an image block. */
export interface PngUpload {
  png: Buffer;
  filename: string;
  title: string;
  altText: string;
  /** Omitted: the file stays private to the app until a block shows it. */
  channelId?: string | undefined;
  /** The message posted with the file in the channel. */
  comment?: string | undefined;
}

export type UploadResult = { ok: true; fileId: string } | { ok: false; error: string };

/**
 * Uploads a PNG with `files.uploadV2` (get an upload URL, send the bytes, complete the upload).
 * A refusal (not_in_channel, missing_scope, a network failure) comes back as its Slack error code,
 * never thrown: the text answer it accompanies goes out anyway.
 */
export async function uploadPng(client: WebClient, u: PngUpload): Promise<UploadResult> {
  try {
    const fileId = await uploadPngOrThrow(client, u);
    return fileId ? { ok: true, fileId } : { ok: false, error: NO_FILE_RETURNED };
  } catch (err) {
    const code = (err as { data?: { error?: string } }).data?.error;
    return { ok: false, error: code ?? (err instanceof Error ? err.message : String(err)) };
  }
}

/** Slack completed the upload but named no file: nothing to show. */
export const NO_FILE_RETURNED = "no_file_returned";

/**
 * The same upload, with the Web API client's error thrown as is, for callers that sort failures
 * themselves (the outbox sink); the file's id, or undefined when Slack named none.
 */
export async function uploadPngOrThrow(
  client: WebClient,
  u: PngUpload,
): Promise<string | undefined> {
  const res = await client.files.uploadV2({
    file: u.png,
    filename: u.filename,
    title: u.title,
    alt_text: u.altText,
    ...(u.channelId ? { channel_id: u.channelId } : {}),
    ...(u.comment && u.channelId ? { initial_comment: u.comment } : {}),
  });
  const completions = (res as { files?: { files?: { id?: string }[] }[] }).files ?? [];
  return completions[0]?.files?.[0]?.id;
}
