/** Generate / progress / player / export panel. Owned by the engine work (issue 4); placeholder until then. */
export function GeneratePanel() {
  return <section aria-label="Generate" data-testid="generate-panel" />;
}
