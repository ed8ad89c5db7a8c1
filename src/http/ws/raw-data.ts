/**
 * @module http/ws/raw-data
 * `ws` hands messages over as a Buffer, an ArrayBuffer or fragments; we want one Buffer.
 */
export type RawData = Buffer | ArrayBuffer | Buffer[];

export function rawDataToBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
