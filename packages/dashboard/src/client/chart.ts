/**
 * Flows started, finished and failed per minute, drawn with uPlot (bundled
 * with the page; it draws on a canvas and styles through the CSSOM, which the
 * Content-Security-Policy allows).
 */
import uPlot from 'uplot';
import type { Overview } from '../api-types.js';

/** Creates the chart in `box`; returns a function that sets its data. */
export function perMinuteChart(box: HTMLElement): (data: Overview['perMinute']) => void {
  let plot: uPlot | undefined;
  const width = () => Math.max(320, Math.min(box.clientWidth || 900, 1200));
  const observer = new ResizeObserver(() => plot?.setSize({ width: width(), height: 220 }));
  observer.observe(box);
  return (data) => {
    const series: uPlot.AlignedData = [
      data.map((d) => d.t / 1000),
      data.map((d) => d.started),
      data.map((d) => d.finished),
      data.map((d) => d.failed),
    ];
    if (plot) {
      plot.setData(series);
      return;
    }
    plot = new uPlot(
      {
        width: width(),
        height: 220,
        scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
        axes: [{ stroke: '#8b95a5' }, { stroke: '#8b95a5' }],
        series: [
          {},
          { label: 'started', stroke: '#4c8bf5', width: 2 },
          { label: 'finished', stroke: '#2da44e', width: 2 },
          { label: 'failed', stroke: '#d1242f', width: 2 },
        ],
      },
      series,
      box,
    );
  };
}
