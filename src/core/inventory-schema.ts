// The inventory file's schema (zod 4). Published as JSON Schema (schema/inventory.schema.json) so editors
// complete and check it. Objects are strict: an unknown key is almost always a typo of a known one.
import { z } from 'zod';
import { addressProblem, labelKeyProblem, labelValueProblem, nodeNameProblem, userNameProblem } from './names.ts';

/** A zod check from a names.ts validator (which returns a problem text or undefined). */
function checked(validate: (value: string) => string | undefined) {
  return (value: string, ctx: z.RefinementCtx) => {
    const problem = validate(value);
    if (problem) ctx.addIssue({ code: 'custom', message: `${JSON.stringify(value.slice(0, 60))} ${problem}` });
  };
}

const user = z.string().superRefine(checked(userNameProblem)).describe('SSH login name (default: the ssh-user input, root)');
const port = z
  .number()
  .int('is not a whole number')
  .min(1, 'is not a TCP port (1-65535)')
  .max(65535, 'is not a TCP port (1-65535)')
  .describe('SSH port (default: the ssh-port input, 22)');
const transport = z
  .enum(['ssh', 'local'])
  .describe('how the Action reaches the node: ssh, or local when it runs on the node itself (self-hosted runner)');

const labels = z
  .record(z.string(), z.string())
  .superRefine((value, ctx) => {
    for (const [key, v] of Object.entries(value)) {
      const kp = labelKeyProblem(key);
      if (kp) ctx.addIssue({ code: 'custom', message: `label key ${JSON.stringify(key.slice(0, 60))} ${kp}`, path: [key] });
      const vp = labelValueProblem(v);
      if (vp) ctx.addIssue({ code: 'custom', message: `label value ${JSON.stringify(v.slice(0, 60))} ${vp}`, path: [key] });
    }
  })
  .describe("labels used by batch-by-label (merged over the Node object's labels)");

export const inventoryNodeSchema = z
  .strictObject({
    name: z.string().superRefine(checked(nodeNameProblem)).describe('the Kubernetes Node name'),
    address: z.string().superRefine(checked(addressProblem)).describe('IP address or host name the Action connects to'),
    role: z.enum(['control-plane', 'worker']),
    user: user.optional(),
    port: port.optional(),
    transport: transport.optional(),
    labels: labels.optional(),
    batch: z
      .number()
      .int()
      .min(0)
      .max(1_000_000)
      .optional()
      .describe('batch pin: workers with the same pin are upgraded together, as one batch'),
    hostKeyFingerprint: z
      .string()
      .regex(
        /^SHA256:[A-Za-z0-9+/]{43}=?$/,
        'is not an OpenSSH SHA256 fingerprint ("SHA256:" and 43 base64 characters, as ssh-keygen -lf prints)',
      )
      .optional()
      .describe('host key fingerprint checked instead of ssh-known-hosts, e.g. SHA256:…'),
  })
  .describe('one node');

export const inventorySchema = z
  .strictObject({
    $schema: z.string().optional().describe('editor hint; ignored'),
    cluster: z
      .string()
      .regex(
        /^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/,
        'must be 1-63 letters, digits, ".", "_" or "-", starting and ending with a letter or digit',
      )
      .optional()
      .describe('names the cluster in reports and the PR comment marker'),
    defaults: z
      .strictObject({ user: user.optional(), port: port.optional(), transport: transport.optional() })
      .optional()
      .describe('applied to every node that does not set its own'),
    nodes: z
      .array(inventoryNodeSchema)
      .min(1, 'lists no nodes')
      .max(20_000)
      .describe('the nodes to upgrade, control planes first or anywhere: roles decide the order'),
  })
  .describe('kubeadm-upgrade-action inventory');

export type InventoryInput = z.infer<typeof inventorySchema>;

/** The JSON Schema of the inventory (committed as schema/inventory.schema.json; a test keeps it in sync). */
export const inventoryJsonSchema: object = {
  ...(z.toJSONSchema(inventorySchema, { io: 'input', unrepresentable: 'any' }) as object),
  title: 'kubeadm-upgrade-action inventory',
};
