/* Types of the dashboard's browser code (erased when it is embedded in the page). */

export type Health = 'healthy' | 'degraded' | 'unhealthy';

export interface ModelItem {
  provider: string;
  model: string;
  call_count: number;
  success_count: number;
  error_count: number;
  success_rate: number;
  error_rate: number;
  last_response_time_ms: number | null;
  avg_response_time_ms: number | null;
  last_status: string;
  last_error_message: string | null;
  last_called_at: string;
}
export interface ModelPage {
  items: ModelItem[];
  total: number;
  limit: number;
  offset: number;
}
export interface ProviderItem {
  provider: string;
  total_models: number;
  total_calls: number;
  success_rate: number;
  error_rate: number;
  avg_response_time_ms: number | null;
}
export interface Stats {
  total_models: number;
  total_providers: number;
  total_calls: number;
  success_rate: number;
  avg_response_time_ms: number | null;
}
export interface Summary {
  metrics?: {
    providers?: {
      total_providers: number;
      healthy_providers: number;
      degraded_providers: number;
      unavailable_providers: number;
    };
  };
}
export interface Column {
  key: string;
  label: string;
  numeric: boolean;
  sortValue(item: ModelItem): number | string | null;
  cell(item: ModelItem): Node | string;
}
export type Outcome<T> = { ok: true; value: T } | { ok: false; status: number; message: string };

/** What the page shows and asks for, mirrored in the address bar. */
export interface DashboardState {
  provider: string;
  status: string;
  limit: number;
  offset: number;
  sortKey: string;
  sortDirection: 'ascending' | 'descending';
  errorThreshold: number;
  paused: boolean;
  token: string;
  page: ModelPage | undefined;
  providers: ProviderItem[];
}
