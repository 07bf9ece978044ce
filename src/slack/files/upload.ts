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
    const res = await client.files.uploadV2({
      file: u.png,
      filename: u.filename,
      title: u.title,
      alt_text: u.altText,
      ...(u.channelId ? { channel_id: u.channelId } : {}),
      ...(u.comment && u.channelId ? { initial_comment: u.comment } : {}),
    });
    const completions = (res as { files?: { files?: { id?: string }[] }[] }).files ?? [];
    const fileId = completions[0]?.files?.[0]?.id;
    return fileId ? { ok: true, fileId } : { ok: false, error: "no_file_returned" };
  } catch (err) {
    const code = (err as { data?: { error?: string } }).data?.error;
    return { ok: false, error: code ?? (err instanceof Error ? err.message : String(err)) };
  }
}
