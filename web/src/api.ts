// Where the data comes from: the daemon's API (live, with the bearer token when one is set) or
// the JSON embedded in an offline report (`orbwatch analyze --report`).
import type { Alert, Flow, Lookup, StoredAlert } from './types';
import { alertFlowQuery, filterAlerts, matchesFlowQuery } from './logic';

export type Params = Record<string, string | number | undefined | string[]>;

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface FlowsAnswer {
  flows: Flow[];
  truncated: boolean;
  filter?: string;
}

export interface Source {
  readonly offline: boolean;
  readonly title: string;
  get<T>(path: string, params?: Params): Promise<T>;
  post<T = unknown>(path: string, params?: Params): Promise<T>;
  /** What the model and AS data say of addresses. */
  lookup(ips: string[]): Promise<Lookup[]>;
  /** The flows behind an alert (at most `limit`). */
  alertFlows(a: Alert, limit: number): Promise<FlowsAnswer>;
}

function query(params?: Params): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params ?? {})) {
    if (v === undefined || v === '') continue;
    if (Array.isArray(v)) v.forEach((x) => p.append(k, x));
    else p.set(k, String(v));
  }
  const s = p.toString();
  return s ? `?${s}` : '';
}

const TOKEN_KEY = 'orbwatch.token';

export class LiveSource implements Source {
  readonly offline = false;
  readonly title = 'live';
  private token = sessionStorage.getItem(TOKEN_KEY) ?? localStorage.getItem(TOKEN_KEY) ?? '';

  setToken(token: string, remember: boolean): void {
    this.token = token;
    sessionStorage.setItem(TOKEN_KEY, token);
    if (remember) localStorage.setItem(TOKEN_KEY, token);
    else localStorage.removeItem(TOKEN_KEY);
  }

  private async request<T>(method: string, path: string, params?: Params): Promise<T> {
    const headers: Record<string, string> = {};
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    let url = path + query(params);
    let body: URLSearchParams | undefined;
    if (method === 'POST') {
      body = new URLSearchParams(query(params).slice(1));
      url = path;
    }
    let res: Response;
    try {
      res = await fetch(url, { method, headers, body, cache: 'no-store', signal: AbortSignal.timeout(60000) });
    } catch (e) {
      throw new ApiError(0, `${path}: ${e instanceof Error && e.name === 'TimeoutError' ? 'no answer in 60 s' : 'the daemon cannot be reached'}`);
    }
    if (!res.ok) {
      let message = `HTTP ${res.status}`;
      try {
        message = ((await res.json()) as { error?: string }).error ?? message;
      } catch {
        /* not JSON */
      }
      throw new ApiError(res.status, message);
    }
    return (await res.json()) as T;
  }

  get<T>(path: string, params?: Params): Promise<T> {
    return this.request<T>('GET', path, params);
  }

  post<T = unknown>(path: string, params?: Params): Promise<T> {
    return this.request<T>('POST', path, params);
  }

  async lookup(ips: string[]): Promise<Lookup[]> {
    // Form bodies of at most ~7 KB: the server refuses larger ones (cpp-httplib's limit).
    const out: Lookup[] = [];
    let batch: string[] = [];
    let size = 0;
    const flush = async () => {
      if (batch.length) out.push(...(await this.post<{ addresses: Lookup[] }>('/api/v1/lookup', { ip: batch })).addresses);
      batch = [];
      size = 0;
    };
    for (const ip of ips) {
      if (size + ip.length + 4 > 7000) await flush();
      batch.push(ip);
      size += ip.length + 4;
    }
    await flush();
    return out;
  }

  async alertFlows(a: Alert, limit: number): Promise<FlowsAnswer> {
    const q = alertFlowQuery(a);
    if (!q) return { flows: [], truncated: false };
    const r = await this.get<FlowsAnswer>('/api/v1/flows', { ...q, limit });
    return { ...r, filter: q.filter };
  }
}

/** The report's data: API answers computed by `orbwatch analyze`, keyed by path. */
export interface ReportData {
  title: string;
  generated: string;
  inputs: string[];
  responses: Record<string, unknown>;
  alert_flows: Record<string, FlowsAnswer>;
}

export class ReportSource implements Source {
  readonly offline = true;
  readonly title: string;
  constructor(readonly data: ReportData) {
    this.title = data.title;
  }

  async get<T>(path: string, params?: Params): Promise<T> {
    const r = this.data.responses;
    if (path === '/api/v1/alerts') {
      const all = ((r[path] as { alerts?: StoredAlert[] })?.alerts ?? []) as StoredAlert[];
      const num = (v: unknown) => (v === undefined ? undefined : Number(v));
      const alerts = filterAlerts(all, {
        detector: params?.detector as string,
        severity: params?.severity as string,
        status: params?.status as string,
        ip: params?.ip as string,
        offset: num(params?.offset),
        limit: num(params?.limit),
      });
      return { offset: num(params?.offset) ?? 0, limit: num(params?.limit) ?? 100, alerts } as T;
    }
    const one = /^\/api\/v1\/alerts\/([0-9a-f]+)$/.exec(path);
    if (one) {
      const all = ((r['/api/v1/alerts'] as { alerts?: StoredAlert[] })?.alerts ?? []) as StoredAlert[];
      const found = all.find((a) => a.alert.id === one[1]);
      if (!found) throw new ApiError(404, `no alert with id ${one[1]}`);
      return found as T;
    }
    const key = path === '/api/v1/flows/top' ? `${path}?by=${params?.by ?? 'src_ip'}${params?.filter ? `&filter=${params.filter}` : ''}` : path;
    if (!(key in r)) throw new ApiError(404, `${key} is not part of this report`);
    return r[key] as T;
  }

  post<T>(): Promise<T> {
    return Promise.reject(new ApiError(405, 'an offline report cannot be changed'));
  }

  async lookup(ips: string[]): Promise<Lookup[]> {
    const want = new Set(ips);
    const all = ((this.data.responses['/api/v1/lookup'] as { addresses?: Lookup[] })?.addresses ?? []) as Lookup[];
    return all.filter((l) => want.has(l.ip));
  }

  async alertFlows(a: Alert): Promise<FlowsAnswer> {
    // The report carries every flow of the alert's addresses; keep what the detector judged.
    const q = alertFlowQuery(a);
    const all = this.data.alert_flows[a.id];
    if (!q || !all) return { flows: [], truncated: false, filter: q?.filter };
    return { flows: all.flows.filter((f) => matchesFlowQuery(q, f)), truncated: all.truncated, filter: q.filter };
  }
}

/** The report's data when this page is an offline report, else null. */
export function embeddedReport(doc: Document): ReportData | null {
  const el = doc.getElementById('orbwatch-report');
  if (!el || !el.textContent) return null;
  return JSON.parse(el.textContent) as ReportData;
}
