/**
 * @module log/redact
 * What the logs may say about secrets: that they are set, never what they are.
 */

/** A connection URL as it may be logged: its password replaced by `(set)`. */
export function withoutPassword(url: string | null): string | null {
  if (url === null) return null;
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '(set)';
    return u.toString();
  } catch {
    return '(set)';
  }
}
