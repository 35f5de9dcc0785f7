/**
 * The pages, one file each: adding a page is its file and one line here (the server answers the
 * path when it matches router.ts PAGE_PATH).
 */
import type { VNode } from 'preact';
import { h } from 'preact';
import { ClusterPage } from './cluster.js';
import { JobPage } from './job.js';
import { JobsPage } from './jobs.js';
import { TasksPage } from './tasks.js';

export interface PageEntry {
  path: RegExp;
  /** In the navigation bar, when set. */
  nav?: string;
  href?: string;
  render(params: string[]): VNode<any>;
}

export const PAGES: PageEntry[] = [
  { path: /^\/(?:cluster)?$/, nav: 'Cluster', href: '/', render: () => h(ClusterPage, {}) },
  { path: /^\/jobs$/, nav: 'Jobs', href: '/jobs', render: () => h(JobsPage, {}) },
  { path: /^\/jobs\/([\w.-]+)$/, render: ([id]) => h(JobPage, { id: id! }) },
  { path: /^\/tasks$/, nav: 'Tasks & actors', href: '/tasks', render: () => h(TasksPage, {}) },
];
