// The page's style sheet (system fonts only: the file loads nothing).
export const STYLE = `
* { box-sizing: border-box; }
html, body { margin: 0; height: 100%; font: 13px/1.35 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1d1d1d; background: #fff; }
#app { display: grid; grid-template-rows: auto 1fr auto; grid-template-columns: 1fr 520px; height: 100vh; }
header { grid-column: 1 / 3; display: flex; flex-wrap: wrap; gap: 6px 16px; align-items: center; padding: 6px 10px; border-bottom: 1px solid #ddd; background: #fafafa; }
header h1 { font-size: 15px; margin: 0; font-weight: 600; }
header .dim, .dim { color: #666; font-weight: normal; }
#search { width: 240px; padding: 3px 6px; font: inherit; }
#legend { display: flex; flex-wrap: wrap; gap: 4px 10px; font-size: 12px; }
#legend span { display: inline-flex; align-items: center; gap: 4px; }
#legend i { display: inline-block; width: 12px; height: 10px; border-radius: 2px; }
#legend i.diamond { width: 8px; height: 8px; transform: rotate(45deg); border-radius: 0; }
#legend i.line { height: 2px; width: 16px; }
#lanes { grid-column: 1; grid-row: 2; display: flex; min-height: 0; position: relative; border-right: 1px solid #ddd; }
#labels { width: 150px; flex: none; position: relative; overflow: hidden; border-right: 1px solid #ddd; background: #fafafa; }
#labels div { position: absolute; left: 0; right: 0; padding: 2px 6px; font-size: 12px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; border-top: 1px solid #eee; }
#labels div.counter { color: #555; font-style: italic; }
#labels div.cpu { font-weight: 600; }
#canvas-box { flex: 1; position: relative; min-width: 0; }
#lanes-canvas { position: absolute; inset: 0; width: 100%; height: 100%; cursor: grab; outline: none; }
#lanes-canvas.dragging { cursor: grabbing; }
#tooltip { position: absolute; pointer-events: none; background: rgba(30,30,30,0.9); color: #fff; padding: 3px 6px; border-radius: 3px; font-size: 12px; white-space: pre; display: none; z-index: 2; }
#timebar { grid-column: 1; grid-row: 3; display: flex; gap: 8px; align-items: center; padding: 6px 10px; border-top: 1px solid #ddd; border-right: 1px solid #ddd; background: #fafafa; }
#slider { flex: 1; }
#seq-input { width: 90px; font: inherit; }
#panel { grid-column: 2; grid-row: 2 / 4; overflow: auto; padding: 0 10px 20px; }
#panel h2 { font-size: 14px; margin: 12px 0 6px; }
#panel h3 { font-size: 12px; margin: 10px 0 4px; text-transform: uppercase; letter-spacing: 0.04em; color: #555; }
#panel table { border-collapse: collapse; width: 100%; font-size: 12px; }
#panel th, #panel td { text-align: left; padding: 2px 4px; border-bottom: 1px solid #eee; vertical-align: top; }
#panel th { color: #555; font-weight: 600; }
#panel ol, #panel ul { margin: 0; padding-left: 18px; font-size: 12px; }
#panel ol li { margin: 2px 0; word-break: break-all; }
#selected-events, #findings ol, #search-results ol { max-height: 220px; overflow: auto; border: 1px solid #eee; padding: 4px 4px 4px 22px !important; }
#panel code.seq { font-weight: 600; color: #1f6feb; }
#panel pre { font-size: 11px; background: #f6f8fa; padding: 6px; overflow: auto; max-height: 300px; }
#panel button.link { background: none; border: none; padding: 0; color: #1f4fb0; cursor: pointer; font: inherit; text-align: left; }
#panel button.link:hover { text-decoration: underline; }
#findings li.bug, #findings li.violation { color: #a61e1e; }
#loading { position: fixed; inset: 0; display: flex; align-items: center; justify-content: center; flex-direction: column; gap: 8px; background: #fff; z-index: 5; }
#loading progress { width: 320px; }
#fatal { color: #a61e1e; white-space: pre-wrap; padding: 20px; }
kbd { font: 11px ui-monospace, monospace; border: 1px solid #ccc; border-radius: 3px; padding: 0 3px; background: #fff; }
`;
