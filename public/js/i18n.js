// English and Simplified Chinese. The default follows the browser; the toggle is kept.
const dict = {
  en: {
    'tab.chat': 'Chat', 'tab.gui': 'GUI', 'tab.ocr': 'OCR', 'tab.video': 'Video', 'tab.monitor': 'Monitor',
    'login.token': 'Monitor token', 'login.signin': 'Sign in',
    'sub.overview': 'Overview', 'sub.model': 'Model Metrics', 'settings.title': 'Settings',
    'card.gpu_memory': 'GPU memory', 'card.gpu_utilization': 'GPU utilisation', 'card.latency': 'Latency (P50)',
    'card.rps': 'Requests / s', 'card.connections': 'Active connections', 'card.error_rate': 'Error rate',
    'status.ok': 'ok', 'status.warn': 'warning', 'status.crit': 'critical', 'status.unavailable': 'unavailable',
    'monitor.off': 'The Monitor is switched off on this server (MONITOR_ENABLED=false).', 'live': 'live', 'offline': 'disconnected, reconnecting…', 'simulated': 'SIMULATED backend',
    'log.title': 'Log', 'log.all': 'all', 'log.search': 'Search: WARN ocr · ERROR vlm · image_hash=ab3f · text', 'log.pause': 'Pause', 'log.resume': 'Resume',
    'log.level': 'Minimum level', 'log.module': 'Module', 'log.allLevels': 'all levels', 'log.allModules': 'all modules',
    'log.ctx.title': 'Lines before and after, of the', 'log.ctx.request': 'same request', 'log.ctx.client': 'same client', 'log.ctx.module': 'module {m}',
    'log.ctx.request.word': 'request', 'log.ctx.client.word': 'client', 'log.ctx.module.word': 'module', 'log.ctx.showing': '{n} lines of {by} {v}',
    'log.matches': '{n} of {m} lines match (searched on the server)', 'log.boosted': 'every INFO line kept until {until}', 'log.sampled': 'INFO lines sampled at {p} %',
    'log.noMatch': 'No line matches.', 'log.empty': 'No log lines yet.',
    'log.samplingNote': 'INFO lines are sampled at {p} % (LOG_SAMPLE_RATE); WARN and ERROR lines are always kept.',
    'log.boost.before': 'Keep every INFO line for', 'log.boost.after': 'minutes', 'log.boost.button': 'Keep all INFO', 'log.boost.minutes': 'minutes',
    'panel.close': 'Close', 'panel.window': 'Window',
    'alert.firing': 'FIRING', 'alert.resolved': 'RESOLVED', 'alert.ack': 'Acknowledge',
    'alert.test': 'TEST', 'alert.dismiss': 'Dismiss', 'alert.more': '{n} more in the list below', 'alert.top': 'top client',
    'severity.info': 'info', 'severity.warning': 'warning', 'severity.critical': 'critical',
    'firing.title': '{n} alerts firing', 'firing.pending': '{n} pending', 'firing.since': 'since {at} ({age})', 'firing.acked': 'acknowledged by {by}',
    'firing.surge': '{p} % against its {base} mean',
    'alert.summary': '{m} = {v} (threshold {op} {th})', 'alert.summary.resolved': '{m} is back to {v}', 'alert.noData': 'no data',
    'rules.title': 'Alert rules', 'rules.add': '+ Add Rule', 'rules.save': 'Save rule', 'rules.delete': 'Delete', 'rules.edit': 'Edit', 'rules.enable': 'Enabled',
    'rules.name': 'Name', 'rules.metric': 'Metric', 'rules.labels': 'Labels (k=v,…)', 'rules.op': 'Condition', 'rules.threshold': 'Threshold',
    'rules.checks': 'Consecutive checks', 'rules.for': 'or for (e.g. 2m)', 'rules.severity': 'Severity', 'rules.channels': 'Channels',
    'rules.and': 'AND metric (optional)', 'rules.state': 'State', 'rules.boost': 'Log all INFO for (min)', 'rules.capture': 'Attach recent requests',
    'presets.title': 'Presets', 'presets.import': 'Import', 'presets.imported': 'imported',
    'silences.title': 'Silences', 'silences.add': 'Add silence', 'channels.title': 'Channels', 'channels.save': 'Save channels',
    'channels.test': 'Send test', 'history.title': 'History',
    'chat.prompt': 'Ask about the image', 'chat.send': 'Send', 'chat.image': 'Image',
    'gui.instruction': 'Instruction', 'gui.run': 'Run step', 'ocr.run': 'Read text', 'ocr.confidence': 'Confidence',
    'video.question': 'Question', 'video.ask': 'Ask', 'video.file': 'MP4 file',
    'model.stages': 'Stage means (they add up to the total)', 'model.gui': 'GUI', 'model.ocr': 'OCR', 'model.video': 'Video',
    'model.tokens': 'Input tokens (mean)', 'model.engine': 'Model server', 'model.clients': 'Top clients (5 min)', 'model.module': 'Module',
    'module.ocr': 'OCR', 'module.gui': 'GUI', 'module.video': 'Video', 'module.chat': 'Chat',
    'fig.ocr_avg_duration': 'Mean OCR duration', 'fig.ocr_error_count': 'OCR errors', 'fig.ocr_confidence_mean': 'Mean confidence',
    'fig.ocr_preproc_failure_rate': 'Preprocessing failures', 'fig.gui_preproc_failure_rate': 'Preprocessing failures', 'fig.video_preproc_failure_rate': 'Preprocessing failures',
    'fig.input_token_count': 'Input tokens (mean)', 'fig.gui_step_success_rate': 'Step success', 'fig.gui_step_avg_duration': 'Mean step duration',
    'fig.video_frames_per_second': 'Frames understood per second', 'fig.inference_duration_ms': 'Mean request duration', 'fig.ttft_ms': 'Time to first token', 'fig.tokens_per_second': 'Generation speed',
    'model.change': '{c} vs normal', 'model.normal': 'normal {v}', 'model.warnAbove': 'warning above {v}', 'model.warnBelow': 'warning below {v}',
    'model.age': '{age} ago; no request since', 'model.stale': 'no recent data', 'model.noData': 'no data yet',
    'model.baselineRule': 'Change: the last minute against normal, the median of the hour before.',
    'model.share': '{p} % of model requests', 'model.errors': 'errors',
    'stage.preprocess': 'preprocess', 'stage.inference': 'inference', 'stage.postprocess': 'postprocess', 'stage.total': 'total',
    'engine.running': 'running', 'engine.waiting': 'waiting', 'engine.kv': 'KV cache', 'engine.prefix': 'prefix-cache hits',
    'clients.client': 'client', 'clients.gpu': 'GPU-seconds', 'clients.requests': 'requests', 'clients.errors': 'errors',
    'card.expand': 'Expand: full series', 'card.avg': 'avg', 'card.gpu.of': 'of {n}', 'simulated.gpu': 'SIMULATED',
    'card.rps.lastMinute': '{n} requests in the last minute', 'card.rps.window': '{n} requests in the last {w} min',
    'card.conn.inFlight': '{n} model requests in flight', 'card.conn.ws': '{n} WebSocket',
    'card.latency.p95crit': 'P95 above 5 s (anomaly)', 'trend.title': 'last minute against the 10 minutes before (mean {base})',
    'chart.last5m': 'last 5 minutes',
    'host.title': 'Host', 'host.cpu': 'CPU', 'host.memory': 'Memory', 'host.io_wait': 'IO wait', 'host.load': 'Load', 'host.cpus': '{n} CPUs',
  },
  zh: {
    'tab.chat': '对话', 'tab.gui': 'GUI 操作', 'tab.ocr': 'OCR', 'tab.video': '视频', 'tab.monitor': '监控',
    'login.token': '监控令牌', 'login.signin': '登录',
    'sub.overview': '总览', 'sub.model': '模型指标', 'settings.title': '设置',
    'card.gpu_memory': 'GPU 显存', 'card.gpu_utilization': 'GPU 利用率', 'card.latency': '延迟 (P50)',
    'card.rps': '每秒请求数', 'card.connections': '活动连接', 'card.error_rate': '错误率',
    'status.ok': '正常', 'status.warn': '警告', 'status.crit': '严重', 'status.unavailable': '不可用',
    'monitor.off': '此服务器已关闭监控 (MONITOR_ENABLED=false)。', 'live': '实时', 'offline': '连接断开，正在重连…', 'simulated': '模拟后端',
    'log.title': '日志', 'log.all': '全部', 'log.search': '搜索：WARN ocr · ERROR vlm · image_hash=ab3f · 文本', 'log.pause': '暂停', 'log.resume': '继续',
    'log.level': '最低级别', 'log.module': '模块', 'log.allLevels': '全部级别', 'log.allModules': '全部模块',
    'log.ctx.title': '前后相关日志：', 'log.ctx.request': '同一请求', 'log.ctx.client': '同一调用方', 'log.ctx.module': '模块 {m}',
    'log.ctx.request.word': '请求', 'log.ctx.client.word': '调用方', 'log.ctx.module.word': '模块', 'log.ctx.showing': '{by} {v} 的 {n} 行',
    'log.matches': '{m} 行中 {n} 行匹配（在服务器上搜索）', 'log.boosted': '{until} 前保留全部 INFO 日志', 'log.sampled': 'INFO 日志按 {p} % 采样',
    'log.noMatch': '没有匹配的日志。', 'log.empty': '暂无日志。',
    'log.samplingNote': 'INFO 日志按 {p} % 采样 (LOG_SAMPLE_RATE)；WARN 和 ERROR 日志全部保留。',
    'log.boost.before': '全部保留 INFO 日志', 'log.boost.after': '分钟', 'log.boost.button': '保留全部 INFO', 'log.boost.minutes': '分钟',
    'panel.close': '关闭', 'panel.window': '时间窗口',
    'alert.firing': '告警', 'alert.resolved': '已恢复', 'alert.ack': '确认',
    'alert.test': '测试', 'alert.dismiss': '关闭', 'alert.more': '另有 {n} 条，见下方列表', 'alert.top': '最大调用方',
    'severity.info': '提示', 'severity.warning': '警告', 'severity.critical': '严重',
    'firing.title': '{n} 条告警触发中', 'firing.pending': '{n} 条待定', 'firing.since': '自 {at} 起（{age}）', 'firing.acked': '已由 {by} 确认',
    'firing.surge': '较 {base} 均值 {p} %',
    'alert.summary': '{m} = {v}（阈值 {op} {th}）', 'alert.summary.resolved': '{m} 已恢复为 {v}', 'alert.noData': '无数据',
    'rules.title': '告警规则', 'rules.add': '+ 添加规则', 'rules.save': '保存规则', 'rules.delete': '删除', 'rules.edit': '编辑', 'rules.enable': '启用',
    'rules.name': '名称', 'rules.metric': '指标', 'rules.labels': '标签 (k=v,…)', 'rules.op': '条件', 'rules.threshold': '阈值',
    'rules.checks': '连续检查次数', 'rules.for': '或持续 (如 2m)', 'rules.severity': '级别', 'rules.channels': '通知渠道',
    'rules.and': '且 指标 (可选)', 'rules.state': '状态', 'rules.boost': '全量记录 INFO (分钟)', 'rules.capture': '附带最近请求',
    'presets.title': '预设', 'presets.import': '导入', 'presets.imported': '已导入',
    'silences.title': '静默', 'silences.add': '添加静默', 'channels.title': '通知渠道', 'channels.save': '保存渠道',
    'channels.test': '发送测试', 'history.title': '历史',
    'chat.prompt': '就图片提问', 'chat.send': '发送', 'chat.image': '图片',
    'gui.instruction': '指令', 'gui.run': '执行一步', 'ocr.run': '识别文字', 'ocr.confidence': '置信度',
    'video.question': '问题', 'video.ask': '提问', 'video.file': 'MP4 文件',
    'model.stages': '各阶段平均耗时（相加即总计）', 'model.gui': 'GUI', 'model.ocr': 'OCR', 'model.video': '视频',
    'model.tokens': '输入 token (平均)', 'model.engine': '推理服务', 'model.clients': '调用方排行 (5 分钟)', 'model.module': '模块',
    'module.ocr': 'OCR', 'module.gui': 'GUI 操作', 'module.video': '视频', 'module.chat': '对话',
    'fig.ocr_avg_duration': 'OCR 平均耗时', 'fig.ocr_error_count': 'OCR 错误数', 'fig.ocr_confidence_mean': '平均置信度',
    'fig.ocr_preproc_failure_rate': '预处理失败率', 'fig.gui_preproc_failure_rate': '预处理失败率', 'fig.video_preproc_failure_rate': '预处理失败率',
    'fig.input_token_count': '输入 token（平均）', 'fig.gui_step_success_rate': '步骤成功率', 'fig.gui_step_avg_duration': '平均步骤耗时',
    'fig.video_frames_per_second': '每秒理解帧数', 'fig.inference_duration_ms': '平均请求耗时', 'fig.ttft_ms': '首 token 时间', 'fig.tokens_per_second': '生成速度',
    'model.change': '较正常 {c}', 'model.normal': '正常 {v}', 'model.warnAbove': '高于 {v} 警告', 'model.warnBelow': '低于 {v} 警告',
    'model.age': '{age}前；此后无请求', 'model.stale': '近期无数据', 'model.noData': '暂无数据',
    'model.baselineRule': '变化：最近 1 分钟对比正常值（前 1 小时的中位数）。',
    'model.share': '占模型请求 {p} %', 'model.errors': '错误',
    'stage.preprocess': '预处理', 'stage.inference': '推理', 'stage.postprocess': '后处理', 'stage.total': '总计',
    'engine.running': '运行中', 'engine.waiting': '排队', 'engine.kv': 'KV 缓存', 'engine.prefix': '前缀缓存命中',
    'clients.client': '调用方', 'clients.gpu': 'GPU 秒', 'clients.requests': '请求数', 'clients.errors': '错误数',
    'card.expand': '展开：完整曲线', 'card.avg': '平均', 'card.gpu.of': '(共 {n} 块)', 'simulated.gpu': '模拟',
    'card.rps.lastMinute': '最近 1 分钟 {n} 个请求', 'card.rps.window': '最近 {w} 分钟 {n} 个请求',
    'card.conn.inFlight': '{n} 个模型请求处理中', 'card.conn.ws': '{n} 个 WebSocket',
    'card.latency.p95crit': 'P95 超过 5 秒（异常）', 'trend.title': '最近 1 分钟对比之前 10 分钟（均值 {base}）',
    'chart.last5m': '最近 5 分钟',
    'host.title': '主机', 'host.cpu': 'CPU', 'host.memory': '内存', 'host.io_wait': 'IO 等待', 'host.load': '负载', 'host.cpus': '{n} 个 CPU',
  },
};

let lang = localStorage.getItem('lang') ?? ((navigator.language || '').toLowerCase().startsWith('zh') ? 'zh' : 'en');
const listeners = [];

/** The string for a key in the current language, with {name} replaced from vars. */
export function t(key, vars) {
  const s = dict[lang][key] ?? dict.en[key] ?? key;
  return vars ? s.replace(/\{(\w+)\}/g, (m, k) => (vars[k] === undefined ? m : String(vars[k]))) : s;
}

/** The server's fixed explanations (why a card is empty) in Chinese; technical details kept. */
const REASONS = [
  [/^no requests to the model endpoints in the window$/, () => '窗口内没有模型请求'],
  [/^no check has run yet$/, () => '尚未完成第一次检查'],
  [/^no recent GPU reading$/, () => '最近没有 GPU 读数'],
  [/^GPU probe not running$/, () => 'GPU 探针未运行'],
  [/^GPU probe has not run yet$/, () => 'GPU 探针尚未运行'],
  [/^no NVIDIA GPU: (.+) not found$/, (m) => `没有 NVIDIA GPU：未找到 ${m[1]}`],
  [/^no NVIDIA GPU(.*)$/, (m) => `没有 NVIDIA GPU${m[1]}`],
  [/^NVML found no GPU$/, () => 'NVML 未发现 GPU'],
  [/^GPU (.+) lost \(GPU_IS_LOST\): NVML will be re-initialised$/, (m) => `GPU ${m[1]} 丢失 (GPU_IS_LOST)：将重新初始化 NVML`],
  [/^NVIDIA driver not loaded (.*)$/, (m) => `NVIDIA 驱动未加载 ${m[1]}`],
  [/^no permission to access the GPU (.*)$/, (m) => `无权访问 GPU ${m[1]}`],
];
export function translateReason(text) {
  if (lang !== 'zh' || !text) return text;
  for (const [re, fn] of REASONS) {
    const m = re.exec(text);
    if (m) return fn(m);
  }
  return text;
}
export const currentLang = () => lang;
export function onLangChange(fn) { listeners.push(fn); }

export function applyStatic() {
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
  document.querySelectorAll('[data-i18n]').forEach((el) => { el.textContent = t(el.dataset.i18n); });
  const btn = document.getElementById('lang');
  if (btn) btn.textContent = lang === 'zh' ? 'English' : '中文';
}

export function toggleLang() {
  lang = lang === 'zh' ? 'en' : 'zh';
  localStorage.setItem('lang', lang);
  applyStatic();
  listeners.forEach((fn) => fn(lang));
}
