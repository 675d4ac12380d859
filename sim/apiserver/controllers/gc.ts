// The garbage collector (dependents of a deleted owner are deleted once none of their owners exist)
// and the namespace controller (a terminating namespace loses its contents, then itself).
import { deleteObject } from '../deletion.ts';
import { R, resources } from '../resources.ts';
import type { ChangeEvent } from '../store.ts';
import type { Controller, ControllerContext } from './loop.ts';

export function garbageCollector(ctx: ControllerContext): Controller {
  function reconcile(uid: string): void {
    if (ctx.store.uids.has(uid)) return;
    for (const def of resources) {
      for (const dependent of ctx.store.ownedBy(def, uid)) {
        const owners = (dependent.metadata.ownerReferences ?? []) as { uid: string }[];
        if (owners.some((o) => ctx.store.uids.has(o.uid))) continue;
        if (dependent.metadata.deletionTimestamp && def !== R.pods) continue;
        try {
          deleteObject(ctx.api, def, dependent.metadata.namespace, dependent.metadata.name, {});
        } catch (error) {
          ctx.log(`garbage collector: ${def.plural} ${dependent.metadata.name}: ${(error as Error).message}`);
        }
      }
    }
  }
  return {
    name: 'garbage-collector',
    watch(event: ChangeEvent, enqueue) {
      if (event.type === 'DELETED' && event.object.metadata?.uid) enqueue(event.object.metadata.uid);
    },
    reconcile,
  };
}

export function namespaceController(ctx: ControllerContext): Controller {
  function reconcile(name: string): void {
    const ns = ctx.store.get(R.namespaces, undefined, name);
    if (!ns?.metadata.deletionTimestamp) return;
    let left = 0;
    for (const def of resources) {
      if (!def.namespaced) continue;
      for (const obj of [...ctx.store.iterate(def, name)]) {
        left += 1;
        if (obj.metadata.deletionTimestamp) continue;
        deleteObject(ctx.api, def, name, obj.metadata.name, {});
      }
    }
    if (left === 0) ctx.store.remove(R.namespaces, undefined, name);
  }
  return {
    name: 'namespace',
    watch(event: ChangeEvent, enqueue) {
      if (event.def === R.namespaces && event.type !== 'DELETED' && event.object.metadata.deletionTimestamp)
        enqueue(event.object.metadata.name);
      else if (event.type === 'DELETED' && event.def.namespaced) {
        const ns = ctx.store.get(R.namespaces, undefined, event.object.metadata.namespace);
        if (ns?.metadata.deletionTimestamp) enqueue(ns.metadata.name);
      }
    },
    reconcile,
  };
}
