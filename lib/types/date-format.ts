// A Date as the text of a timestamp in the process's time zone: what goes out for a Date
// when timestamps are read in local time (types.setTimestampType('local')). A timestamp
// column keeps the wall-clock time and drops the offset, so the Date read from it comes
// back as it was; a timestamptz column takes the offset, so it gets the same instant.
import { daysFromCivil } from './datetime';

const MS_PER_DAY = 86_400_000;

function pad(value: number, width: number): string {
  return String(value).padStart(width, '0');
}

/** A Date's wall-clock time in the process's time zone, as milliseconds since 1970 read as UTC. */
export function localWallClock(date: Date): number {
  const wallDays = daysFromCivil(date.getFullYear(), date.getMonth() + 1, date.getDate());
  return wallDays * MS_PER_DAY + date.getHours() * 3_600_000 + date.getMinutes() * 60_000 + date.getSeconds() * 1000 + date.getMilliseconds();
}

/**
 * '2024-02-29 13:04:05.123+05:30': the local wall-clock time and the offset from UTC in
 * force at that instant, to the second (getTimezoneOffset() rounds the local mean times of
 * old dates, such as -04:56:02 in New York before 1883, to the minute). Years before 1 AD
 * get ' BC'. The Date must be valid.
 */
export function formatTimestampLocal(date: Date): string {
  const fullYear = date.getFullYear();
  const month = date.getMonth() + 1;
  const day = date.getDate();
  const hours = date.getHours();
  const minutes = date.getMinutes();
  const seconds = date.getSeconds();
  const ms = date.getMilliseconds();
  const offsetSeconds = Math.round((localWallClock(date) - date.getTime()) / 1000);
  const bc = fullYear <= 0;
  const year = bc ? 1 - fullYear : fullYear;
  let text = `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)} ${pad(hours, 2)}:${pad(minutes, 2)}:${pad(seconds, 2)}`;
  if (ms !== 0) text += `.${pad(ms, 3)}`;
  const absolute = Math.abs(offsetSeconds);
  text += `${offsetSeconds < 0 ? '-' : '+'}${pad(Math.floor(absolute / 3600), 2)}:${pad(Math.floor(absolute / 60) % 60, 2)}`;
  if (absolute % 60 !== 0) text += `:${pad(absolute % 60, 2)}`;
  if (bc) text += ' BC';
  return text;
}
