// 信访台账助手: the page's script. No library: plain DOM, fetch and inline SVG.
"use strict";
(function () {
  const TOKEN = document.querySelector('meta[name="xfsheets-token"]').content;
  const $ = (sel) => document.querySelector(sel);
  const el = (tag, attrs, ...children) => {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") node.className = v; else node.setAttribute(k, v);
    }
    for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(c == null ? "" : String(c)));
    return node;
  };
  const withToken = (url) => url + (url.includes("?") ? "&" : "?") + "token=" + encodeURIComponent(TOKEN);

  async function api(url, options) {
    const opts = Object.assign({}, options || {});
    opts.headers = Object.assign({"X-Xfsheets-Token": TOKEN}, opts.headers || {});
    let response;
    try {
      response = await fetch(url, opts);
    } catch (e) {
      throw new Error("连接不上本机服务：请确认 xfsheets serve 的窗口还开着，然后刷新本页。");
    }
    let body = {};
    try { body = await response.json(); } catch (e) { body = {}; }
    if (!response.ok) {
      const err = body.error || {};
      const text = err.message || ("服务返回错误 " + response.status);
      throw new Error(text + (err.hint ? (/[。！？]$/.test(text) ? "" : "。") + err.hint : ""));
    }
    return body;
  }

  function showError(message) {
    const box = $("#error");
    box.textContent = message ? "出错了：" + message : "";
    box.hidden = !message;
  }

  // --- ① uploads -----------------------------------------------------------------------------
  function renderLedgers(files) {
    const box = $("#ledgers");
    box.replaceChildren();
    if (!files.length) { box.append(el("p", {class: "muted"}, "还没有台账。")); return; }
    const total = files.reduce((n, f) => n + f.matters, 0);
    box.append(el("p", {}, `已读取 ${files.length} 个文件，共 ${total} 件事项：`));
    for (const f of files) {
      const item = el("div", {class: "ledger"}, el("b", {}, f.file), `　${f.matters} 件事项`);
      const t = el("table", {class: "sheets"});
      t.append(el("tr", {}, el("th", {}, "工作表"), el("th", {}, "类型"), el("th", {}, "表头行"), el("th", {}, "事项"),
        el("th", {}, "未作为数据读取的行"), el("th", {}, "未识别的列")));
      for (const s of f.sheets) {
        t.append(el("tr", {}, el("td", {}, s.sheet), el("td", {}, s.kind || ""), el("td", {}, (s.header_rows || []).join("、")),
          el("td", {}, s.rows),
          el("td", {}, s.skipped_rows.map((r) => `${r.reason} ${r.rows} 行`).join("；") || "无"),
          el("td", {}, s.unmapped.join("、") || "无")));
      }
      for (const s of f.skipped_sheets) {
        t.append(el("tr", {class: "bad"}, el("td", {}, s.sheet), el("td", {colspan: "5"}, "未读取：" + s.reason)));
      }
      item.append(t);
      box.append(item);
    }
  }

  async function refreshLedgers() {
    const data = await api("api/ledgers");
    renderLedgers(data.files);
    $("#folder-note").textContent = "工作文件夹：" + data.folder;
  }

  async function uploadFiles(fileList) {
    const files = Array.from(fileList);
    const errors = $("#upload-errors");
    errors.replaceChildren();
    showError("");
    let k = 0;
    for (const file of files) {
      k += 1;
      $("#upload-state").textContent = `正在读取第 ${k}/${files.length} 个：${file.name}`;
      try {
        await api("api/upload?name=" + encodeURIComponent(file.name), {method: "POST", body: file,
          headers: {"Content-Type": "application/octet-stream"}});
      } catch (e) {
        errors.append(el("div", {class: "upload-error"}, e.message));
      }
    }
    $("#upload-state").textContent = files.length ? `已处理 ${files.length} 个文件。` : "";
    await refreshLedgers();
    await refreshHistory();
  }

  // A folder's files: the ledgers only (no Excel lock files ~$…).
  const LEDGER_NAME = /\.(xlsx|xlsm|xltx|xls|xlsb|ods|et|ett|csv)$/i;
  const ledgersOnly = (files) => files.filter((f) => LEDGER_NAME.test(f.name) && !f.name.startsWith("~$"));

  // What was dropped: files as they are, a dropped folder walked for its ledgers.
  async function dropped(transfer) {
    const entries = Array.from(transfer.items || []).map((i) => i.webkitGetAsEntry && i.webkitGetAsEntry()).filter(Boolean);
    if (!entries.length || entries.every((e) => e.isFile)) return Array.from(transfer.files);
    const out = [];
    async function walk(entry) {
      if (entry.isFile) {
        out.push(await new Promise((resolve, reject) => entry.file(resolve, reject)));
      } else if (entry.isDirectory) {
        const reader = entry.createReader();
        for (;;) {
          const batch = await new Promise((resolve, reject) => reader.readEntries(resolve, reject));
          if (!batch.length) break;
          for (const e of batch) await walk(e);
        }
      }
    }
    for (const e of entries) await walk(e);
    return ledgersOnly(out);
  }

  const drop = $("#drop");
  drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    dropped(e.dataTransfer).then(uploadFiles).catch((err) => showError("读取拖入的文件夹失败：" + err.message));
  });
  $("#files").addEventListener("change", (e) => { uploadFiles(e.target.files); e.target.value = ""; });
  $("#folder").addEventListener("change", (e) => {
    uploadFiles(ledgersOnly(Array.from(e.target.files)));
    e.target.value = "";
  });
  $("#clear").addEventListener("click", async () => { await api("api/ledgers", {method: "DELETE"}); await refreshLedgers(); });

  // --- ② buttons and progress -------------------------------------------------------------------
  const today = new Date();
  const iso = (d) => new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 10);
  $("#as-of").value = iso(today);
  $("#period").addEventListener("change", () => { $("#custom").hidden = $("#period").value !== "自定义"; });

  let canSend = false;
  function busy(on) {
    document.querySelectorAll("button[data-action], #send, #mail-eml").forEach((b) => { b.disabled = on; });
    $("#mail-send").disabled = on || !canSend;
  }

  async function runAction(action, label) {
    showError("");
    $("#step-result").hidden = true;
    $("#progress-title").textContent = "正在" + label;
    const options = {as_of: $("#as-of").value, period: $("#period").value, from: $("#from").value, to: $("#to").value};
    let job;
    try {
      job = await api("api/run/" + action, {method: "POST", body: JSON.stringify(options),
        headers: {"Content-Type": "application/json"}});
    } catch (e) { showError(e.message); return; }
    await follow(job, label);
  }

  // Poll a job until it ends, then show its result (also for a job the WPS add-in started: page#job=N).
  async function follow(job, label) {
    busy(true);
    $("#step-progress").hidden = false;
    $("#progress-title").textContent = "正在" + label;
    try {
      for (;;) {
        showProgress(job);
        if (job.state !== "running") break;
        await new Promise((r) => setTimeout(r, 400));
        job = await api("api/jobs/" + job.id);
      }
    } catch (e) { showError(e.message); busy(false); return; }
    busy(false);
    if (job.state === "failed") {
      $("#progress-title").textContent = label + "没有完成";
      showError(job.error);
      return;
    }
    $("#progress-title").textContent = label + "已完成";
    renderResult(job);
    refreshHistory();
    if (!$("#mail").hidden) openMail();  // a new report is offered to 发送 at once
  }

  function showProgress(job) {
    const bar = $("#bar");
    bar.max = Math.max(job.total, 1);
    bar.value = job.state === "running" ? job.done : bar.max;
    const current = job.current ? `，当前：${job.current}` : "";
    $("#progress-text").textContent = job.state === "running"
      ? `已完成 ${job.done}/${job.total || "?"} 个${current}（${job.seconds} 秒）`
      : `已完成 ${job.total}/${job.total}（用时 ${job.seconds} 秒）`;
  }

  document.querySelectorAll("button[data-action]").forEach((b) => {
    b.addEventListener("click", () => runAction(b.dataset.action, b.textContent));
  });

  // --- 发送: one of this run's reports, by the clerk's own mail server (xfsheets.toml) -------------
  async function openMail() {
    showError("");
    let data;
    try { data = await api("api/mail"); } catch (e) { showError(e.message); return; }
    $("#mail").hidden = false;
    $("#mail-none").hidden = data.files.length > 0;
    $("#mail-form").hidden = data.files.length === 0;
    const pick = $("#mail-file");
    const was = pick.value;
    pick.replaceChildren(...data.files.slice().reverse().map((f) => el("option", {value: f.path}, `${f.name}（第 ${f.job} 次${f.label}）`)));
    if (data.files.some((f) => f.path === was)) pick.value = was;
    if (!$("#mail-to").value && data.to.length) $("#mail-to").value = data.to.join(", ");
    if (!$("#mail-cc").value && data.cc.length) $("#mail-cc").value = data.cc.join(", ");
    canSend = data.can_send;
    $("#mail-send").disabled = !canSend;
    $("#mail-where").textContent = data.host
      ? `邮件将经邮件服务器 ${data.host}${data.port ? "（端口 " + data.port + "）" : ""}发出，`
        + `${data.security ? "加密方式 " + data.security : "不加密"}，发件人 ${data.sender || data.user || "（未设置）"}。`
        + (data.config ? `设置来自本人的配置文件「${data.config}」。` : "")
      : "";
    $("#mail-notice").textContent = data.notice || "";
    $("#mail-notice").hidden = !data.notice;
    $("#mail-why").textContent = data.why_not ? data.why_not + (/[。！？]$/.test(data.why_not) ? "" : "。") : "";
    $("#mail-why").hidden = !data.why_not;
  }

  async function sendMail(eml) {
    showError("");
    const label = eml ? "写成邮件文件" : "发送";
    const body = {file: $("#mail-file").value, to: $("#mail-to").value, cc: $("#mail-cc").value,
      subject: $("#mail-subject").value, eml: eml};
    if (!eml && !window.confirm(($("#mail-where").textContent || "") + "\n收件人：" + (body.to || "（配置文件中的收件人）") + "\n确定发送吗？")) return;
    let job;
    try {
      job = await api("api/mail", {method: "POST", body: JSON.stringify(body), headers: {"Content-Type": "application/json"}});
    } catch (e) { showError(e.message); return; }
    await follow(job, label);
  }
  $("#send").addEventListener("click", openMail);
  $("#mail-send").addEventListener("click", () => sendMail(false));
  $("#mail-eml").addEventListener("click", () => sendMail(true));

  // --- results ----------------------------------------------------------------------------------
  const FLAG_CLASS = {"超期": "overdue", "严重超期": "severe", "临期": "soon"};

  function table(spec) {
    const t = el("table", {class: "result"});
    t.append(el("tr", {}, ...spec.columns.map((c) => el("th", {}, c))));
    for (const row of spec.rows) {
      const flag = row["预警"] || "";
      const bad = String(row["级别"] || row["结果"] || "").startsWith("错误") || String(row["结果"] || "").startsWith("读取失败");
      t.append(el("tr", {class: FLAG_CLASS[flag] || (bad ? "bad" : "")}, ...spec.columns.map((c) => el("td", {}, row[c] == null ? "" : row[c]))));
    }
    return t;
  }

  // A bar chart drawn as inline SVG (no chart library).
  function chart(spec) {
    const NS = "http://www.w3.org/2000/svg";
    const svgEl = (tag, attrs, text) => {
      const n = document.createElementNS(NS, tag);
      for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, v);
      if (text != null) n.textContent = text;
      return n;
    };
    const bars = spec.bars.filter((b) => typeof b.value === "number");
    const rowH = 26, labelW = 150, width = 640, barW = width - labelW - 70;
    const max = Math.max(1, ...bars.map((b) => b.value));
    const svg = svgEl("svg", {width: width, height: bars.length * rowH + 34, role: "img", "aria-label": spec.title, id: "chart-svg"});
    svg.append(svgEl("text", {x: 0, y: 16, "font-size": 15, "font-weight": "bold"}, spec.title));
    const colours = {"超期": "#e06666", "严重超期": "#c00000", "临期": "#f1c232", "正常": "#6aa84f"};
    bars.forEach((b, i) => {
      const y = 28 + i * rowH;
      svg.append(svgEl("text", {x: labelW - 6, y: y + 16, "text-anchor": "end", "font-size": 13}, b.label));
      svg.append(svgEl("rect", {x: labelW, y: y + 3, height: rowH - 8, width: Math.max(1, barW * b.value / max),
        fill: colours[b.label] || "#5b8bd0"}));
      svg.append(svgEl("text", {x: labelW + barW * b.value / max + 6, y: y + 16, "font-size": 13}, b.value));
    });
    return svg;
  }

  function renderResult(job) {
    const r = job.result || {};
    $("#step-result").hidden = false;
    $("#result-title").textContent = job.label + " 的结果";
    $("#summary").textContent = r.summary || "";
    const notes = $("#notes");
    notes.replaceChildren(...(r.notes || []).map((n) => el("li", {}, n)));
    const dl = $("#downloads");
    dl.replaceChildren();
    if ((r.outputs || []).length) dl.append(el("div", {}, "下载结果（保存到本机后可直接用 Excel/WPS 打开）："));
    for (const path of r.outputs || []) {
      const name = path.split("/").pop();
      const a = el("a", {href: withToken("api/download/" + path.split("/").map(encodeURIComponent).join("/")), download: name, class: "download"}, name);
      dl.append(a);
    }
    const c = $("#chart");
    c.replaceChildren();
    if (r.chart && r.chart.bars && r.chart.bars.length) c.append(chart(r.chart));
    const tables = $("#tables");
    tables.replaceChildren();
    for (const spec of r.tables || []) {
      tables.append(el("h3", {}, spec.title));
      tables.append(spec.rows.length ? table(spec) : el("p", {class: "muted"}, "无"));
    }
  }

  // --- ③ history ----------------------------------------------------------------------------------
  async function refreshHistory() {
    const box = $("#history");
    let data;
    try { data = await api("api/history"); } catch (e) { box.replaceChildren(el("p", {}, e.message)); return; }
    box.replaceChildren();
    if (!data.store) { box.append(el("p", {class: "muted"}, data.message)); return; }
    box.append(el("p", {class: "muted"}, "历史库：" + data.store));
    box.append(el("h3", {}, "发出记录"));
    if (!data.log.length) box.append(el("p", {class: "muted"}, "还没有发出记录。"));
    else box.append(table({columns: ["序号", "时间", "类别", "文件", "收件人"], rows: data.log.map((e) => ({
      "序号": e.id, "时间": e.at.replace("T", " ").slice(0, 16), "类别": e.kind_label, "文件": e.name, "收件人": e.recipients || ""}))}));
    box.append(el("h3", {}, "本期变化"), el("p", {}, data.changes.sentence));
    const SHOWN = 30;
    const events = data.changes.events.slice(0, SHOWN).map((e) => ({"变化": e.label, "信访件编号": e.case_id, "责任单位": e.unit,
      "原来": e.old || "", "现在": e.new || "", "日期": e.as_of}));
    if (events.length) box.append(table({columns: ["变化", "信访件编号", "责任单位", "原来", "现在", "日期"], rows: events}));
    if (data.changes.total > SHOWN) {
      box.append(el("p", {class: "muted"}, `……另有 ${data.changes.total - SHOWN} 条未列出（全部：xfsheets changes -o 本期变化.xlsx）`));
    }
    if (!data.intact) box.append(el("p", {class: "upload-error"}, `发出记录从第 ${data.broken_at} 条起被改动或删除过。`));
  }
  $("#history-refresh").addEventListener("click", refreshHistory);

  refreshLedgers().then(async () => {
    const asked = /job=(\d+)/.exec(location.hash);
    if (asked) {
      const job = await api("api/jobs/" + asked[1]);
      await follow(job, job.label);
    }
  }).catch((e) => showError(e.message));
})();
