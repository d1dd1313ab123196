// bool in the text format is 't' or 'f'; the longer spellings are accepted for text
// that did not come from the server's output function (e.g. a user's own column).

export function parseBool(text: string): boolean {
  if (text === 't') return true;
  if (text === 'f') return false;
  switch (text.trim().toLowerCase()) {
    case 't':
    case 'true':
    case 'y':
    case 'yes':
    case 'on':
    case '1':
      return true;
    default:
      return false;
  }
}

export function formatBool(value: boolean): string {
  return value ? 't' : 'f';
}
