/** Cluster page: nodes with resources and use over time, object store use and spill, autoscaler decisions. */
import type { PageEntry } from '../page.js';
import { Chart, rate } from '../chart.js';
import { amount, bytes, duration, time } from '../format.js';
import { useLive } from '../live.js';

export function ClusterPage() {
  const { cluster: c, points, error } = useLive();
  if (!c) return <p class="muted">{error ?? 'Connecting to the head…'}</p>;
  const alive = c.nodes.filter((n) => n.alive);
  return (
    <section id="cluster-page">
      <h1>Cluster <span class="muted">{c.clusterId}</span></h1>
      <div class="cards">
        <Card label="Head" value={c.address} />
        <Card label="Nodes alive" value={`${alive.length}${c.nodes.length > alive.length ? ` (${c.nodes.length - alive.length} dead)` : ''}`} id="nodes-alive" />
        <Card label="Tasks running / pending" value={`${c.tasks.running} / ${c.tasks.pending}`} />
        <Card label="Tasks finished / failed" value={`${c.counters.tasksFinished} / ${c.counters.tasksFailed}`} id="tasks-done" />
        <Card label="Object store" value={`${bytes(c.objects.storeBytes)}${c.objects.spilledBytes ? `, ${bytes(c.objects.spilledBytes)} spilled` : ''}`} />
        <Card label="Actors" value={String(c.actors.length)} />
      </div>
      <div class="charts">
        <Chart id="chart-cpu" title="CPU in use" points={points} series={[
          { label: 'used', value: (p) => p.cpuUsed, stroke: '#2563eb' },
          { label: 'total', value: (p) => p.cpuTotal, stroke: '#9ca3af' },
        ]} />
        <Chart id="chart-tasks" title="Tasks per second" points={points} series={[
          { label: 'finished/s', value: (p, q) => rate(p.tasksFinished, q?.tasksFinished, q ? p.at - q.at : 0), stroke: '#16a34a' },
          { label: 'failed/s', value: (p, q) => rate(p.tasksFailed, q?.tasksFailed, q ? p.at - q.at : 0), stroke: '#dc2626' },
        ]} />
        <Chart id="chart-store" title="Object store (bytes)" points={points} series={[
          { label: 'in memory', value: (p) => p.objectStoreBytes, stroke: '#7c3aed' },
          { label: 'spilled', value: (p) => p.spilledBytes, stroke: '#ea580c' },
        ]} />
      </div>
      <h2>Nodes</h2>
      <table id="nodes">
        <thead><tr><th>Node</th><th>Address</th><th>State</th><th>CPU (avail/total)</th><th>Memory (avail/total)</th><th>Object store</th><th>Running</th><th>Uptime</th></tr></thead>
        <tbody>
          {c.nodes.map((n) => (
            <tr key={n.id}>
              <td>{n.id}</td><td>{n.address}</td><td class={n.alive ? 'ok' : 'bad'}>{n.alive ? 'alive' : 'dead'}</td>
              <td>{amount('CPU', n.available.CPU ?? 0)}/{amount('CPU', n.total.CPU ?? 0)}</td>
              <td>{amount('memory', n.available.memory ?? 0)}/{amount('memory', n.total.memory ?? 0)}</td>
              <td>{n.usage ? `${bytes(n.usage.objectStoreBytes)}${n.usage.objectStoreCapacityBytes ? ` of ${bytes(n.usage.objectStoreCapacityBytes)}` : ''} (${n.usage.objects} obj)` : '-'}</td>
              <td>{n.usage?.runningTasks ?? n.inflightTasks}</td><td>{duration(n.uptimeS * 1000)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {c.autoscaler && (
        <>
          <h2>Autoscaler ({c.autoscaler.provider})</h2>
          <table id="autoscaler"><thead><tr><th>Time</th><th>Action</th><th>Node</th><th>Reason</th></tr></thead>
            <tbody>{c.autoscaler.decisions.map((d, i) => <tr key={i}><td>{time(d.at)}</td><td>{d.action}</td><td>{d.nodeId ?? ''}</td><td>{d.reason}</td></tr>)}</tbody>
          </table>
        </>
      )}
    </section>
  );
}

function Card({ label, value, id }: { label: string; value: string; id?: string }) {
  return <div class="card" id={id}><div class="label">{label}</div><div class="value">{value}</div></div>;
}

export const page: PageEntry = { path: /^\/(?:cluster)?$/, nav: 'Cluster', href: '/', order: 10, render: () => <ClusterPage /> };
