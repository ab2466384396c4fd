import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parse as parseYaml } from 'yaml'
import { startTestHandler, transferOfUsd, type TestHandler } from '../handler/support.js'

/**
 * The alert rules and the dashboard in deploy/ must be well formed and must only name metrics a running
 * handler actually exposes: a renamed metric would leave an alert that can never fire.
 */
const ROOT = join(import.meta.dirname, '..', '..')
const ALERTS = join(ROOT, 'deploy', 'prometheus', 'countersign-alerts.yaml')
const DASHBOARD = join(ROOT, 'deploy', 'grafana', 'countersign-dashboard.json')

interface AlertRule {
  alert: string
  expr: string
  for?: string
  labels: { severity: string }
  annotations: { summary: string; description?: string }
}

const alertRules = () =>
  (
    parseYaml(readFileSync(ALERTS, 'utf8')) as { groups: { name: string; rules: AlertRule[] }[] }
  ).groups.flatMap((group) => group.rules)

interface Panel {
  id: number
  title: string
  gridPos: { x: number; w: number }
  targets: { expr: string }[]
}
const panels = () => (JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { panels: Panel[] }).panels

const METRIC = /\b(?:countersign|process|nodejs)_[a-z0-9_]+/g
const exposedName = (name: string, scrape: string) =>
  new RegExp(`^${name}(?:\\{| )`, 'm').test(scrape) || new RegExp(`^${name}_bucket\\{`, 'm').test(scrape)

describe('monitoring artefacts in deploy/', () => {
  let h: TestHandler
  let scrape: string
  beforeAll(async () => {
    h = await startTestHandler()
    await h.send('tx', transferOfUsd(10))
    await h.post('tx', 'not.a.jwt')
    h.handler.reloadPolicy()
    scrape = await (await fetch(`${h.url}/metrics`)).text()
  })
  afterAll(async () => h.close())

  it('has alert rules Prometheus can load: a name, an expression, a severity and a summary each', () => {
    const rules = alertRules()
    expect(rules.length).toBeGreaterThan(5)
    for (const rule of rules) {
      expect(rule.alert).toMatch(/^Countersign[A-Za-z]+$/)
      expect(rule.expr.trim()).not.toBe('')
      expect(['critical', 'warning', 'info']).toContain(rule.labels.severity)
      expect(rule.annotations.summary.length).toBeGreaterThan(10)
      if (rule.for !== undefined) expect(rule.for).toMatch(/^\d+[smh]$/)
    }
    expect(new Set(rules.map((rule) => rule.alert)).size).toBe(rules.length)
  })

  it('passes promtool where Prometheus is installed (apt-get install prometheus)', () => {
    let promtool: string
    try {
      promtool = execFileSync('which', ['promtool'], { encoding: 'utf8' }).trim()
    } catch {
      // Without promtool the structure test above is the check; the docs say how to run it.
      expect(alertRules().length).toBeGreaterThan(0)
      return
    }
    expect(execFileSync(promtool, ['check', 'rules', ALERTS], { encoding: 'utf8' })).toMatch(
      /SUCCESS: \d+ rules found/,
    )
  })

  it('names only metrics the handler exposes, in alerts and on the dashboard', () => {
    const named = new Set([
      ...alertRules().flatMap((rule) => rule.expr.match(METRIC) ?? []),
      ...panels().flatMap((panel) => panel.targets.flatMap((target) => target.expr.match(METRIC) ?? [])),
    ])
    expect(named.size).toBeGreaterThan(8)
    const missing = [...named]
      .map((name) => name.replace(/_bucket$/, ''))
      .filter((name) => !exposedName(name, scrape))
    expect(missing).toEqual([])
  })

  it('has a dashboard with unique panel ids, each panel inside the 24-column grid and querying something', () => {
    const list = panels()
    expect(new Set(list.map((panel) => panel.id)).size).toBe(list.length)
    for (const panel of list) {
      expect(panel.gridPos.x + panel.gridPos.w, panel.title).toBeLessThanOrEqual(24)
      expect(panel.targets.length, panel.title).toBeGreaterThan(0)
    }
  })
})
