// Which webhook URL the user is shown: the one-paste URL (its secret in the path, the panel's
// basic-auth fields left empty) or the URL that goes with user and password. The backend
// accepts both at all times; this only decides what the guide, Settings and copy buttons offer.

import type { AppStatus, WebhookForm } from "./types";

export const WEBHOOK_FORMS: readonly WebhookForm[] = ["url_secret", "basic_auth"];

/** The chosen form; a status from an older backend (no field) means basic auth. */
export function webhookForm(status: AppStatus | null): WebhookForm {
  return status?.webhook_form === "url_secret" ? "url_secret" : "basic_auth";
}

/** The URL to paste into the panel in the chosen form (the public one while a tunnel is online). */
export function chosenWebhookUrl(status: AppStatus | null): string | null {
  if (!status) return null;
  return webhookForm(status) === "url_secret" ? status.secret_webhook_url : status.webhook_url;
}

/** Whether `url` is one of the listener's own local URLs (either form). */
export function isLocalWebhookUrl(status: AppStatus | null, url: string): boolean {
  return !!status && (url === status.local_webhook_url || url === status.local_secret_webhook_url);
}
