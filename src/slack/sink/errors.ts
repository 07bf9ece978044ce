import { webApi } from "@slack/bolt";
import { SinkError } from "../../services/outbox/sink.js";

/** Slack errors that no retry fixes without someone changing the setup. */
const PERMANENT_ERRORS = new Set([
  "channel_not_found",
  "not_in_channel",
  "is_archived",
  "invalid_auth",
  "not_authed",
  "account_inactive",
  "token_revoked",
  "token_expired",
  "no_permission",
  "missing_scope",
  "restricted_action",
  "user_not_found",
  "user_disabled",
  "cannot_dm_bot",
  "invalid_blocks",
  "msg_too_long",
  "invalid_metadata_format",
  "invalid_arguments",
  "team_access_not_granted",
  "message_not_found",
  "cant_update_message",
  "edit_window_closed",
  // Uploads (files.uploadV2): the token or the workspace does not allow them.
  "not_allowed_token_type",
  "file_uploads_disabled",
  "file_uploads_except_images_disabled",
  "storage_limit_reached",
  "file_too_large",
  "posting_to_general_channel_denied",
]);

/** Sorts a Web API failure into what the outbox does about it. */
export function classifySlackError(err: unknown): SinkError {
  if (err instanceof SinkError) return err;
  const e = err as {
    code?: string;
    retryAfter?: number;
    statusCode?: number;
    data?: { error?: string };
    original?: Error;
    message?: string;
  };
  switch (e.code) {
    case webApi.ErrorCode.RateLimitedError:
      // Slack's Retry-After is in seconds.
      return SinkError.rateLimited(Math.max(1, e.retryAfter ?? 1) * 1000, "ratelimited");
    case webApi.ErrorCode.HTTPError:
      return SinkError.transient(`http_${e.statusCode ?? "error"}`);
    case webApi.ErrorCode.RequestError:
      return SinkError.transient(`request_failed: ${e.original?.message ?? e.message}`);
    case webApi.ErrorCode.PlatformError: {
      const code = e.data?.error ?? "unknown_error";
      return PERMANENT_ERRORS.has(code) ? SinkError.permanent(code) : SinkError.transient(code);
    }
    default:
      return SinkError.transient(e.message ?? String(err));
  }
}
