// What a thrown value says, whatever was thrown: an Error's message, else its text.
export function messageOf(thrown: unknown): string {
  return thrown instanceof Error ? thrown.message : String(thrown);
}
