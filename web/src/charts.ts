// ECharts, tree-shaken to the charts the dashboard draws, coloured from the page's theme.
import * as echarts from 'echarts/core';
import { BarChart, GraphChart, LineChart, PieChart } from 'echarts/charts';
import { DataZoomComponent, GridComponent, LegendComponent, TooltipComponent } from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';
import type { EChartsCoreOption } from 'echarts/core';

echarts.use([BarChart, GraphChart, LineChart, PieChart, DataZoomComponent, GridComponent, LegendComponent, TooltipComponent, CanvasRenderer]);

export type Option = EChartsCoreOption;

function css(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

export function palette(): Record<string, string> {
  return {
    fg: css('--fg'),
    muted: css('--muted'),
    grid: css('--line'),
    accent: css('--accent'),
    accent2: css('--accent2'),
    low: css('--sev-low'),
    medium: css('--sev-medium'),
    high: css('--sev-high'),
    critical: css('--sev-critical'),
    residential: css('--as-residential'),
    hosting: css('--as-hosting'),
    business: css('--as-business'),
    unknown: css('--as-unknown'),
    internal: css('--as-internal'),
    intel: css('--sev-critical'),
  };
}

/** Axes, tooltip and text in the theme's colours; `option` adds the series. */
export function base(option: Option): Option {
  const p = palette();
  const axis = { axisLine: { lineStyle: { color: p.grid } }, axisLabel: { color: p.muted }, splitLine: { lineStyle: { color: p.grid } } };
  const merge = (x: unknown) => (Array.isArray(x) ? x.map((a) => ({ ...axis, ...a })) : x ? { ...axis, ...(x as object) } : undefined);
  return {
    animation: false,
    textStyle: { color: p.fg, fontFamily: 'inherit' },
    grid: { left: 56, right: 56, top: 36, bottom: 28, containLabel: false },
    tooltip: { trigger: 'axis', confine: true },
    ...option,
    legend: { textStyle: { color: p.muted }, top: 0, ...((option as { legend?: object }).legend ?? {}) },
    xAxis: merge((option as { xAxis?: unknown }).xAxis),
    yAxis: merge((option as { yAxis?: unknown }).yAxis),
  };
}

/** Charts of one page: created once, updated on refresh, disposed when the page goes. */
export class Charts {
  private charts = new Map<HTMLElement, echarts.ECharts>();
  private observer = new ResizeObserver((entries) => {
    for (const e of entries) this.charts.get(e.target as HTMLElement)?.resize();
  });

  set(el: HTMLElement, option: Option): void {
    let c = this.charts.get(el);
    if (!c) {
      c = echarts.init(el, undefined, { renderer: 'canvas' });
      this.charts.set(el, c);
      this.observer.observe(el);
    }
    c.setOption(option, { notMerge: true });
  }

  dispose(): void {
    this.observer.disconnect();
    for (const c of this.charts.values()) c.dispose();
    this.charts.clear();
  }
}
