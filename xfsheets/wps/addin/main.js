/* The 信访台账 tab of WPS 表格 (xfsheets/wps). A thin door: each button hands the active workbook
 * to the running xfsheets service ("信访台账助手", started by its desktop shortcut, never from WPS)
 * and opens the service's page on the result. The service's address and per-start token are read
 * at every press from the file the service writes (config.js: XFSHEETS.serviceFile); the
 * endpoints and action names come from xfsheets/wps/contract.py through config.js.
 * ES5 only: older WPS builds on 信创 desktops run an old Chromium. */

var XF_TITLE = "信访台账";
var XF_NOT_RUNNING = "信访台账助手没有运行。\n请先双击桌面上的“信访台账助手”（开始菜单里也有），等网页打开后，再点这个按钮。";

function OnAddinLoad(ribbonUI) {
    if (typeof wps.ribbonUI !== "object") {
        wps.ribbonUI = ribbonUI;
    }
    return true;
}

function OnGetEnabled(control) {
    return true;
}

function xfApp() {
    if (typeof Application !== "undefined") {
        return Application;
    }
    return wps.EtApplication ? wps.EtApplication() : wps.Application;
}

function xfSay(text) {
    alert(text);
}

function xfService() {
    var path = XFSHEETS.serviceFile;
    try {
        if (!wps.FileSystem.Exists(path)) {
            return null;
        }
        var info = JSON.parse(wps.FileSystem.ReadFile(path));
        if (!info || !info.url || !info.token) {
            return null;
        }
        info.base = String(info.url).replace(/\/+$/, "").replace(/\?.*$/, "");
        return info;
    } catch (e) {
        return null;
    }
}

function xfRequest(service, method, path, body, contentType) {
    var xhr = new XMLHttpRequest();
    xhr.open(method, service.base + path, false);
    xhr.setRequestHeader(XFSHEETS.tokenHeader, service.token);
    if (contentType) {
        xhr.setRequestHeader("Content-Type", contentType);
    }
    try {
        xhr.send(body === undefined ? null : body);
    } catch (e) {
        return { status: 0, data: null };
    }
    var data = null;
    try {
        data = JSON.parse(xhr.responseText);
    } catch (e) {
        data = null;
    }
    return { status: xhr.status, data: data };
}

function xfErrorText(reply) {
    if (reply.status === 0) {
        return XF_NOT_RUNNING;
    }
    if (reply.data && reply.data.error && reply.data.error.message) {
        return reply.data.error.message;
    }
    if (reply.status === 401 || reply.status === 403) {
        return "信访台账助手已重新启动过，请再点一次这个按钮。";
    }
    return "信访台账助手没有处理这次请求（代码 " + reply.status + "）。请在它的网页中查看，或重新启动信访台账助手。";
}

function xfOpenPage(service, job) {
    var url = service.base + "/?token=" + encodeURIComponent(service.token);
    if (job !== undefined && job !== null) {
        url += XFSHEETS.pageJob.replace("{job}", String(job));
    }
    if (wps.OAAssist && wps.OAAssist.ShellExecute) {
        wps.OAAssist.ShellExecute(url);
    } else {
        window.open(url);
    }
}

/* The active workbook's file, as saved; null (after saying why) when there is none to send. */
function xfLedgerFile() {
    var book = xfApp().ActiveWorkbook;
    if (!book) {
        xfSay("请先在 WPS 表格中打开一个台账，再点这个按钮。");
        return null;
    }
    if (!book.Path) {
        xfSay("当前工作簿还没有保存成文件：请先保存（Ctrl+S）到一个文件夹，再点这个按钮。");
        return null;
    }
    if (!book.Saved) {
        xfSay("台账有还没保存的修改：请先保存（Ctrl+S），再点这个按钮（处理的是保存在磁盘上的文件）。");
        return null;
    }
    return { path: book.FullName, name: book.Name };
}

/* One press: the service is up, the workbook goes in, the button's job starts, the page opens on it. */
function xfRun(callback) {
    var action = XFSHEETS.actions[callback];
    var service = xfService();
    if (!service) {
        xfSay(XF_NOT_RUNNING);
        return false;
    }
    if (!action) {
        xfOpenPage(service);
        return true;
    }
    var file = xfLedgerFile();
    if (!file) {
        return false;
    }
    var reply = xfRequest(service, "GET", XFSHEETS.endpoints.health);
    if (reply.status !== 200) {
        xfSay(xfErrorText(reply));
        return false;
    }
    xfRequest(service, "DELETE", XFSHEETS.endpoints.ledgers);
    var bytes = wps.FileSystem.ReadFileAsArrayBuffer(file.path);
    reply = xfRequest(service, "PUT", XFSHEETS.endpoints.upload + "?name=" + encodeURIComponent(file.name), bytes,
                      "application/octet-stream");
    if (reply.status !== 200) {
        xfSay(xfErrorText(reply));
        return false;
    }
    reply = xfRequest(service, "POST", XFSHEETS.endpoints.run.replace("{action}", action), "{}", "application/json");
    if (reply.status !== 202 || !reply.data) {
        xfSay(xfErrorText(reply));
        return false;
    }
    xfOpenPage(service, reply.data.id);
    return true;
}

function CheckLedger(control) {
    return xfRun("CheckLedger");
}

function ComputeDeadlines(control) {
    return xfRun("ComputeDeadlines");
}

function MakeSlips(control) {
    return xfRun("MakeSlips");
}

function MakeSupervisionSlips(control) {
    return xfRun("MakeSupervisionSlips");
}

function MakeReport(control) {
    return xfRun("MakeReport");
}

function ZeroReport(control) {
    return xfRun("ZeroReport");
}

function MergeLedgers(control) {
    return xfRun("MergeLedgers");
}

function ShowSettings(control) {
    return xfRun("ShowSettings");
}

function ShowHelp(control) {
    return xfRun("ShowHelp");
}
