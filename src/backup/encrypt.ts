// age encryption of the backup archive (typage, FiloSottile's maintained TypeScript age). The archive is
// streamed: tar writer → age → file, so a large etcd snapshot never sits in memory whole.
import { createReadStream, createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Decrypter, Encrypter } from 'age-encryption';

/** Encrypts a byte stream to every recipient and writes the age file (mode 0600). */
export async function encryptToFile(source: AsyncIterable<Uint8Array>, recipients: readonly string[], outFile: string): Promise<void> {
  if (recipients.length === 0) throw new Error('cannot encrypt without at least one age recipient');
  const encrypter = new Encrypter();
  for (const r of recipients) encrypter.addRecipient(r);
  const plain = ReadableStream.from(source) as ReadableStream<Uint8Array>;
  const sealed = await encrypter.encrypt(plain);
  await pipeline(Readable.fromWeb(sealed as never), createWriteStream(outFile, { mode: 0o600 }));
}

/** Decrypts an age file with the given identities (AGE-SECRET-KEY-1…) into outFile. Throws when none fits. */
export async function decryptFile(inFile: string, identities: readonly string[], outFile: string): Promise<void> {
  const decrypter = new Decrypter();
  for (const id of identities) decrypter.addIdentity(id);
  const sealed = Readable.toWeb(createReadStream(inFile)) as ReadableStream<Uint8Array>;
  let plain: ReadableStream<Uint8Array>;
  try {
    plain = await decrypter.decrypt(sealed);
  } catch (error) {
    throw new Error(`cannot decrypt ${inFile}: ${(error as Error).message} (is it the identity matching one of the backup's recipients?)`);
  }
  await pipeline(Readable.fromWeb(plain as never), createWriteStream(outFile, { mode: 0o600 }));
}
