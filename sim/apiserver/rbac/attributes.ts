// A request's authorization attributes, parsed from its method and URL as the real server's
// RequestInfoFactory does: /api/v1/… and /apis/GROUP/VERSION/… are resource requests (verb from the
// method: get, list or watch, create, update, patch, delete or deletecollection); every other path is a
// non-resource request whose verb is the lowercased method.
import type { Attributes } from './authorizer.ts';

const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);

function methodVerb(method: string): string {
  switch (method) {
    case 'POST':
      return 'create';
    case 'GET':
    case 'HEAD':
      return 'get';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return 'delete';
    default:
      return '';
  }
}

export function requestAttributes(method: string, url: URL): Attributes {
  const path = url.pathname;
  const nonResource: Attributes = { resourceRequest: false, verb: method.toLowerCase(), path };
  let parts = path.split('/').filter(Boolean);
  const prefix = parts[0];
  if (prefix !== 'api' && prefix !== 'apis') return nonResource;
  parts = parts.slice(1);
  let apiGroup = '';
  if (prefix === 'apis') {
    if (parts.length < 3) return nonResource;
    apiGroup = parts[0]!;
    parts = parts.slice(1);
  } else if (parts.length < 2) {
    return nonResource;
  }
  const apiVersion = parts[0]!;
  parts = parts.slice(1);
  let verb: string;
  if (parts[0] === 'watch' || parts[0] === 'proxy') {
    verb = parts[0];
    parts = parts.slice(1);
  } else {
    verb = methodVerb(method);
  }
  let namespace = '';
  if (parts[0] === 'namespaces' && parts.length > 1) {
    namespace = parts[1]!;
    if (parts.length > 2 && !NAMESPACE_SUBRESOURCES.has(parts[2]!)) parts = parts.slice(2);
  }
  const [resource = '', name = '', subresource = ''] = parts;
  let finalName = name;
  if (!name && verb === 'get') {
    const watch = url.searchParams.get('watch');
    verb = watch === 'true' || watch === '1' ? 'watch' : 'list';
    const exact = /^metadata\.name==?([^,]+)$/.exec(url.searchParams.get('fieldSelector') ?? '');
    if (exact) finalName = exact[1]!;
  }
  if (!finalName && verb === 'delete') verb = 'deletecollection';
  return {
    resourceRequest: true,
    verb,
    apiGroup,
    apiVersion,
    resource,
    subresource: verb === 'proxy' ? '' : subresource,
    namespace,
    name: finalName,
  };
}
