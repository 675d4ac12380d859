// The backup settings as the action parses them: through parseSettings, the one place every input is read.
import { parseSettings, type BackupSettings } from '../../src/core/settings.ts';

/** settings.backup for these inputs (command defaults to backup, which needs no target version). */
export function parseBackupSettings(read: (name: string) => string): BackupSettings {
  return parseSettings((name) => read(name) || (name === 'command' ? 'backup' : '')).backup;
}
