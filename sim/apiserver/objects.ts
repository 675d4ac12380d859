// Create, update and patch with the real server's rules: namespaces must exist, 409 on a taken name
// or a stale resourceVersion, status only through /status, generation bumps, defaulting, no-op
// updates that keep the resourceVersion.
import {
  alreadyExists,
  badRequest,
  conflict,
  failure,
  forbidden,
  invalid,
  namespaceNotFound,
  notFound,
  unsupportedPatchType,
} from './errors.ts';
import { applyDefaults } from './defaults.ts';
import { jsonPatch, isPlainObject, mergePatch } from './patch.ts';
import { apiVersionOf, mustResource, R, type ResourceDef } from './resources.ts';
import { strategicMergePatch } from './strategic.ts';
import type { Obj, Store } from './store.ts';
import { newUid, randomSuffix, stableJson, timeNow } from './util.ts';
import { checkDecodable, checkName, checkPatchedDecodable, validateObject, validatePodUpdate } from './validation.ts';
import YAML from 'yaml';

export interface WriteOptions {
  dryRun?: boolean;
  /** 'status' for the /status subresource */
  subresource?: string;
}

/** Kinds whose create ignores the status a client sends (their strategies reset it). */
const statusResetOnCreate = new Set(['Pod', 'Deployment', 'ReplicaSet', 'DaemonSet', 'Job', 'PodDisruptionBudget', 'Service']);
const EVENTS_KEPT = 2000;

function hasStatusSubresource(def: ResourceDef): boolean {
  return def.subresources.includes('status');
}

/** What counts as the spec for generation bumps: everything but metadata and status. */
function specPart(obj: Obj): string {
  const { metadata: _m, status: _s, ...rest } = obj;
  return stableJson(rest);
}

function withoutVersion(obj: Obj): string {
  const { resourceVersion: _rv, managedFields: _mf, ...metadata } = obj.metadata ?? {};
  return stableJson({ ...obj, metadata });
}

export class ObjectApi {
  readonly store: Store;
  readonly caPem: string | undefined;

  constructor(store: Store, caPem?: string) {
    this.store = store;
    this.caPem = caPem;
  }

  get(def: ResourceDef, namespace: string | undefined, name: string): Obj {
    const obj = this.store.get(def, namespace, name);
    if (!obj) throw notFound(def, name);
    return obj;
  }

  /** Namespaced writes need the namespace; creates also need it not to be terminating. */
  requireNamespace(def: ResourceDef, namespace: string | undefined, forCreate: boolean, name: string): void {
    if (!def.namespaced) return;
    if (!namespace) throw badRequest('the server could not find the requested resource');
    const ns = this.store.get(R.namespaces, undefined, namespace);
    if (!ns) throw namespaceNotFound(namespace);
    if (forCreate && ns.metadata.deletionTimestamp) {
      throw forbidden(def, name, `unable to create new content in namespace ${namespace} because it is being terminated`);
    }
  }

  create(def: ResourceDef, namespace: string | undefined, body: unknown, options: WriteOptions = {}): Obj {
    if (!isPlainObject(body)) throw badRequest('the body of the request is not a JSON object');
    const obj = structuredClone(body);
    obj.metadata = isPlainObject(obj.metadata) ? obj.metadata : {};
    if (def.namespaced && obj.metadata.namespace && namespace && obj.metadata.namespace !== namespace) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    if (!obj.metadata.name && obj.metadata.generateName) obj.metadata.name = `${obj.metadata.generateName}${randomSuffix()}`;
    checkDecodable(def, obj);
    checkName(def, obj);
    this.requireNamespace(def, namespace, true, obj.metadata.name);
    if (def.namespaced) obj.metadata.namespace = namespace;
    else delete obj.metadata.namespace;
    if (this.store.get(def, namespace, obj.metadata.name)) throw alreadyExists(def, obj.metadata.name);
    obj.apiVersion = apiVersionOf(def);
    obj.kind = def.kind;
    for (const field of ['resourceVersion', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'selfLink', 'managedFields'])
      delete obj.metadata[field];
    obj.metadata.uid = newUid();
    obj.metadata.creationTimestamp = timeNow();
    if (def.generation) obj.metadata.generation = 1;
    if (statusResetOnCreate.has(def.kind)) delete obj.status;
    applyDefaults(def.kind, obj);
    validateObject(def, obj);
    if (def === R.services) this.allocateClusterIP(obj);
    if (options.dryRun) return obj;
    const stored = this.store.add(def, obj);
    this.afterCreate(def, stored);
    return stored;
  }

  update(def: ResourceDef, namespace: string | undefined, name: string, body: unknown, options: WriteOptions = {}): Obj {
    if (!isPlainObject(body)) throw badRequest('the body of the request is not a JSON object');
    const old = this.get(def, namespace, name);
    if (body.metadata?.name !== undefined && body.metadata.name !== name) {
      throw badRequest(`the name of the object (${body.metadata.name}) does not match the name on the URL (${name})`);
    }
    if (def.namespaced && body.metadata?.namespace && body.metadata.namespace !== namespace) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    checkDecodable(def, body);
    this.checkResourceVersion(def, old, body);
    return this.store_(def, old, structuredClone(body), options);
  }

  patch(
    def: ResourceDef,
    namespace: string | undefined,
    name: string,
    contentType: string,
    rawBody: string,
    options: WriteOptions = {},
  ): { object: Obj; created: boolean } {
    const type = contentType.split(';')[0]!.trim().toLowerCase();
    const patchTypes = [
      'application/merge-patch+json',
      'application/strategic-merge-patch+json',
      'application/json-patch+json',
      'application/apply-patch+yaml',
    ];
    if (!patchTypes.includes(type)) throw unsupportedPatchType(type, true);
    const patch = parseBody(rawBody, type === 'application/apply-patch+yaml');
    const old = this.store.get(def, namespace, name);
    if (!old) {
      if (type === 'application/apply-patch+yaml') return { object: this.create(def, namespace, patch, options), created: true };
      throw notFound(def, name);
    }
    let patched: Obj;
    if (type === 'application/json-patch+json') patched = jsonPatch(old, patch);
    else if (!isPlainObject(patch))
      throw badRequest(
        `json: cannot unmarshal ${Array.isArray(patch) ? 'array' : typeof patch} into Go value of type map[string]interface {}`,
      );
    else if (type === 'application/merge-patch+json') patched = mergePatch(old, patch) as Obj;
    else patched = strategicMergePatch(old, patch, def.kind);
    checkPatchedDecodable(def, patched);
    this.checkResourceVersion(def, old, patched);
    patched.metadata = { ...patched.metadata, name: old.metadata.name, namespace: old.metadata.namespace };
    return { object: this.store_(def, old, patched, options), created: false };
  }

  /** A controller's write: no validation, just the new version of an existing object. */
  write(def: ResourceDef, obj: Obj): Obj {
    const old = this.store.get(def, obj.metadata.namespace, obj.metadata.name);
    if (!old) return obj;
    if (withoutVersion(old) === withoutVersion(obj)) return old;
    if (def.generation && specPart(old) !== specPart(obj)) {
      obj = { ...obj, metadata: { ...obj.metadata, generation: (old.metadata.generation ?? 1) + 1 } };
    }
    return this.store.replace(def, obj);
  }

  private checkResourceVersion(def: ResourceDef, old: Obj, next: Obj): void {
    const rv = next.metadata?.resourceVersion;
    if (rv !== undefined && rv !== '' && rv !== old.metadata.resourceVersion) throw conflict(def, old.metadata.name);
  }

  /** Applies the update rules to `next` and stores it (or answers what would be stored). */
  private store_(def: ResourceDef, old: Obj, next: Obj, options: WriteOptions): Obj {
    let result: Obj;
    if (options.subresource === 'status') {
      result = {
        ...old,
        status: next.status,
        metadata: { ...old.metadata, labels: next.metadata?.labels, annotations: next.metadata?.annotations },
      };
      if (result.metadata.labels === undefined) delete result.metadata.labels;
      if (result.metadata.annotations === undefined) delete result.metadata.annotations;
    } else {
      result = { ...next, apiVersion: old.apiVersion, kind: old.kind };
      const keep = [
        'uid',
        'creationTimestamp',
        'name',
        'namespace',
        'deletionTimestamp',
        'deletionGracePeriodSeconds',
        'generation',
        'resourceVersion',
      ];
      result.metadata = { ...(isPlainObject(next.metadata) ? next.metadata : {}) };
      for (const field of keep) {
        if (old.metadata[field] === undefined) delete result.metadata[field];
        else result.metadata[field] = old.metadata[field];
      }
      if (hasStatusSubresource(def)) {
        if (old.status === undefined) delete result.status;
        else result.status = old.status;
      }
      applyDefaults(def.kind, result);
      validateObject(def, result);
      if (def.kind === 'Pod') validatePodUpdate(def, old, result);
      if (def.generation && specPart(old) !== specPart(result)) result.metadata.generation = (old.metadata.generation ?? 1) + 1;
    }
    if (withoutVersion(old) === withoutVersion(result)) return old;
    if (options.dryRun) return result;
    if (old.metadata.deletionTimestamp && !(result.metadata.finalizers?.length > 0) && def.kind !== 'Pod' && def.kind !== 'Namespace') {
      return this.store.remove(def, old.metadata.namespace, old.metadata.name) ?? result;
    }
    return this.store.replace(def, result);
  }

  /** Services get the next free address of 10.96.0.0/12; a taken one is refused as the allocator does. */
  private allocateClusterIP(svc: Obj): void {
    if (svc.spec.type === 'ExternalName' || svc.spec.clusterIP === 'None') return;
    const used = new Set<string>();
    for (const s of this.store.iterate(R.services)) if (s.spec?.clusterIP) used.add(s.spec.clusterIP);
    if (svc.spec.clusterIP) {
      if (used.has(svc.spec.clusterIP)) {
        throw invalid(R.services, svc.metadata.name, [
          {
            field: 'spec.clusterIPs',
            message: `Invalid value: []string{${JSON.stringify(svc.spec.clusterIP)}}: failed to allocate IP ${svc.spec.clusterIP}: provided IP is already allocated`,
          },
        ]);
      }
    } else {
      for (let n = 1; ; n++) {
        const ip = `10.${96 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}`;
        if (!used.has(ip) && (n & 255) !== 0) {
          svc.spec.clusterIP = ip;
          break;
        }
      }
    }
    svc.spec.clusterIPs = [svc.spec.clusterIP];
    svc.spec.ipFamilies ??= ['IPv4'];
    svc.spec.ipFamilyPolicy ??= 'SingleStack';
    svc.spec.internalTrafficPolicy ??= 'Cluster';
  }

  private afterCreate(def: ResourceDef, stored: Obj): void {
    if (def === R.namespaces) {
      const ns = stored.metadata.name;
      if (this.caPem) this.create(R.configmaps, ns, { metadata: { name: 'kube-root-ca.crt' }, data: { 'ca.crt': this.caPem } });
      this.create(mustResource('', 'serviceaccounts'), ns, { metadata: { name: 'default' } });
    }
    if (def === R.events && this.store.count(R.events) > EVENTS_KEPT) this.dropOldestEvents();
  }

  private dropOldestEvents(): void {
    let oldest: Obj | undefined;
    for (const e of this.store.iterate(R.events)) {
      if (!oldest || Number(e.metadata.resourceVersion) < Number(oldest.metadata.resourceVersion)) oldest = e;
    }
    if (oldest) this.store.remove(R.events, oldest.metadata.namespace, oldest.metadata.name);
  }
}

function parseBody(raw: string, yaml: boolean): unknown {
  try {
    return yaml ? YAML.parse(raw) : JSON.parse(raw);
  } catch (error) {
    throw failure(400, 'BadRequest', `error decoding patch: ${(error as Error).message}`);
  }
}
