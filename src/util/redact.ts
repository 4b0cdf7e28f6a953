/** `mqtt://user:secret@host` → `mqtt://user:[redacted]@host`: URLs may carry credentials. */
export function redactUrl(url: string): string {
  return url.replace(/(\/\/[^/:@]*:)[^@/]*@/, '$1[redacted]@');
}
