"""Simplified Chinese: every key of :mod:`bot.core.texts.en`, same placeholders and tags."""

from __future__ import annotations

#: 客户看到的文字；问卷文件可按语言覆盖其中任何一条。
CUSTOMER: dict[str, str] = {
    "question": "您有多大可能向朋友或同事推荐{company}？\n0 = 完全不可能，10 = 非常可能",
    "question_transactional": (
        "根据您最近的{event}体验，您有多大可能向朋友或同事推荐{company}？\n"
        "0 = 完全不可能，10 = 非常可能"
    ),
    "question_relationship": (
        "您有多大可能向朋友或同事推荐{company}？\n0 = 完全不可能，10 = 非常可能"
    ),
    "question_episode": (
        "回想您迄今为止与{company}的整体体验，您有多大可能向朋友或同事推荐我们？\n"
        "0 = 完全不可能，10 = 非常可能"
    ),
    "event_default": "服务",
    "question_answered": "{question}\n\n您的评分：{score} ✓",
    "question_expired": "{question}\n\n（本次调查已结束。）",
    "followup_promoter": "谢谢！您最欣赏{company}的哪一点？",
    "followup_passive": "谢谢！我们怎样做才能让您打10分？",
    "followup_detractor": "很抱歉给您带来不好的体验。哪里出了问题？我们应该最先改进什么？",
    "thanks_promoter": "谢谢您，这对我们意义重大！💚",
    "thanks_passive": "感谢您的反馈，我们会努力赢得您的10分。",
    "thanks_detractor": "感谢您告诉我们。您的反馈会直接交给能解决问题的团队。",
    "reason_truncated": "（您的消息较长，我们保留了前 {limit} 个字符。）",
    "press_recorded": "谢谢，您选择了 {score}。",
    "press_already_answered": "您已经回答过这次调查了，谢谢！",
    "press_closed": "本次调查已结束。",
    "press_invalid": "此按钮已失效。",
    "press_wait": "请稍候…",
    "press_busy": "点击过于频繁，请稍候。",
    "flood_slow_down": "您发送消息的速度太快了，请放慢一些；接下来一分钟内多余的消息将被忽略。",
    "score_out_of_range": "评分范围是0到10。请发送这个范围内的整数，或点击上方的按钮。",
    "score_not_whole": "请发送0到10之间的整数（不要小数），或点击上方的按钮。",
    "score_not_a_number": "没能识别出评分。请点击上方的按钮，或输入0到10之间的整数。",
    "score_media": "请点击上方0到10的数字，或直接输入。",
    "reason_media": "我只能读取文字。请简单写几句您打这个分数的原因。",
    "reason_updated": "好的，我们已更新您的留言。",
    "edit_ignored": "对之前消息的修改不会被记录。请发送一条新消息。",
    "no_open_survey": (
        "目前没有需要您填写的调查。下次您使用{company}的服务后，我们会在这里询问您。"
        "发送 /stop 可停止接收调查。"
    ),
    "not_linked": "这个机器人为{company}收集反馈。如需参与，请打开{company}发给您的链接。",
    "greeting": (
        "您好！我是{company}的反馈机器人。在您使用我们的服务后，我可能会问您一个简单的问题："
        "从0到10，您有多大可能推荐我们。如需关联您的账户，请打开{company}发给您的链接。"
        "随时发送 /stop 即可停止接收调查。"
    ),
    "linked": (
        "设置完成！下次您使用{company}的服务后，我会问您一个简单的问题。"
        "随时发送 /stop 即可停止接收调查。"
    ),
    "opted_back_in": "欢迎回来！您将重新收到{company}的调查。随时发送 /stop 即可停止。",
    "link_invalid": "抱歉，此链接无效。请使用{company}发给您的链接，或向他们索取新链接。",
    "link_expired": "抱歉，此链接已过期。请向{company}索取新链接。",
    "link_used": (
        "抱歉，此链接已被使用过，且只能使用一次。如需关联本聊天，请向{company}索取新链接。"
    ),
    "link_taken": (
        "此账户已关联到另一个 Telegram 聊天，因此本聊天未被关联。"
        "如果您换了新手机或新账户，请联系{company}为您转移。"
    ),
    "moved_away": (
        "您在{company}的反馈账户已按要求转移到另一个 Telegram 聊天，您将不再在此收到调查。"
        "如果这不是您本人的要求，请联系{company}。"
    ),
    "stopped": "已完成：您将不再收到{company}的调查。改变主意了？发送 /start 即可。",
    "already_stopped": "您已经退订了。发送 /start 可重新接收调查。",
    "reminder": (
        "温馨提醒：您有多大可能向朋友或同事推荐{company}？请点击上方问题中0到10的数字，只需一秒钟。"
    ),
    "relay_from_team": "{company}团队就您的反馈给您留言：\n\n{text}",
    "relay_received": "谢谢，我们已将您的消息转达给{company}团队。",
    "drivers_prompt": "哪些因素最重要？可多选，选好后点击“完成”。",
    "drivers_done_button": "完成",
    "drivers_chosen": "最重要的因素：{drivers}",
    "drivers_none": "最重要的因素：（未选择）",
    "drivers_pending": "请点击对您最重要的因素，然后点击“完成”。",
    "promoter_link_button": "写评价",
    "language_prompt": "您希望使用哪种语言？",
    "language_set": "好的，我会用简体中文和您交流。",
    "language_invalid": "该语言不可用。",
    "mydata_header": "以下是{company}通过此机器人存储的关于您的全部信息。",
    "mydata_customer": (
        "客户编号：{customer_id}\n关联日期：{linked_at}\n语言：{language}\n属性：{attributes}"
    ),
    "mydata_none": "无",
    "mydata_surveys": "调查：{count} 次",
    "mydata_survey": "调查 {survey_id}：{kind}，{event}，{status}",
    "mydata_survey_dates": "创建于 {created_at} · 发送于 {sent_at} · 结束于 {closed_at}",
    "mydata_attributes": "当时的属性：{attributes}",
    "mydata_answer": "您的评分：{score}（{category}），{scored_at}",
    "mydata_drivers": "最重要的因素：{drivers}",
    "mydata_reason": "您的留言：{reason}",
    "mydata_footer": (
        "相同的数据将以 JSON 文件发送。发送 /delete_me 可删除这些数据，发送 /stop 可停止接收调查。"
    ),
    "mydata_document_caption": "{company}存储的您的数据（JSON，UTF-8）。",
    "mydata_not_linked": "此聊天未关联{company}的客户账户，因此这里没有存储关于您的任何信息。",
    "delete_confirm": (
        "要删除{company}保存的您的数据吗？您的客户关联、属性和留言将被删除；您的评分只会作为"
        "匿名统计保留。除非您打开{company}发给您的新链接，否则您将不再收到调查。此操作无法撤销。"
    ),
    "delete_yes_button": "是，删除",
    "delete_no_button": "不，保留",
    "delete_done": (
        "已完成：您的数据已被删除。感谢您的反馈。如果您想再次参与调查，"
        "请打开{company}发给您的新链接。"
    ),
    "delete_cancelled": "好的，没有删除任何数据。",
    "delete_expired": "此确认已过期，没有删除任何数据。请重新发送 /delete_me。",
    "delete_nothing": "此聊天已没有可删除的数据。",
}

#: 反馈团队在管理聊天中看到的文字：命令、提醒、回复转发、/stats。
ADMIN: dict[str, str] = {
    # 用法说明：参数有误时，在具体问题之后回复。
    "usage_nps": (
        "用法：/nps [时间段] [筛选]。时间段：today、yesterday、7d、30d、Nd、"
        "YYYY-MM-DD 或 YYYY-MM-DD..YYYY-MM-DD（默认 7d）。筛选：event=<类型>、"
        "kind=<transactional|relationship|episode> 或 <属性>=<值>。"
    ),
    "usage_digest": "用法：/digest [today|yesterday|YYYY-MM-DD]（默认今天，截至目前）。",
    "usage_export": (
        "用法：/export [csv|xlsx] [时间段] [筛选]（默认 csv、30d）："
        "导出回答的 CSV 文件或 Excel 工作簿。"
    ),
    "usage_survey": "用法：/survey <客户 ID>：立即为该客户安排一次调查。",
    "usage_stats": "用法：/stats（无参数）：队列与发送状况。",
    "usage_resolve": "用法：/resolve <提醒编号> [备注]：将差评提醒标记为已处理。",
    "usage_themes": (
        "用法：/themes [时间段] [筛选]（默认 30d）：客户评论的主题、"
        "各主题的 NPS、影响和变化，附图表。"
    ),
    "usage_trend": (
        "用法：/trend [weeks|months]（默认 weeks）：最近 12 周或 12 个月每期的 NPS，"
        "附 n 和区间，以及图表。"
    ),
    "usage_cancel": "用法：/cancel：取消给客户写回复。",
    # 拒绝与按钮应答。
    "not_admin": (
        "抱歉，此命令仅供{company}的反馈团队使用。如果您是团队成员，请在团队的管理聊天中使用。"
    ),
    "not_admin_button": "只有反馈团队的管理员可以使用此按钮。",
    "button_invalid": "此按钮（已）无效。",
    "alert_unknown": "没有编号为 #{alert_id} 的提醒。",
    "customer_unreachable": "无法在 Telegram 中联系客户 {customer}（{why}）。",
    "unreachable_not_linked": "客户尚未关联聊天",
    "unreachable_blocked": "客户屏蔽了机器人",
    "unreachable_unknown_alert": "提醒不存在",
    # 回复转发（管理员一侧）。
    "reply_prompt": (
        "✍️ {admin}，您在本聊天中的下一条消息将发送给客户 <code>{customer}</code>"
        "（提醒 #{alert_id}）。发送 /cancel 可取消。"
    ),
    "reply_prompt_answer": "请在本聊天中直接发送您的回复。",
    "reply_sent": (
        "✅ 已发送给客户 <code>{customer}</code>（提醒 #{alert_id}）。"
        "客户的下一条消息将作为对该提醒的回复显示在这里。"
    ),
    "reply_not_text": "只能向客户发送文字。请以文字发送回复，或发送 /cancel。",
    "reply_too_long": "回复太长（{length:,} 个字符，最多 {limit:,} 个）。请缩短。",
    "reply_cancelled": "已取消回复。",
    "nothing_to_cancel": "当前没有正在编写的回复。",
    "customer_replied": (
        "💬 客户 <code>{customer}</code> 回复了（提醒 #{alert_id}）：\n<i>{text}</i>"
    ),
    "customer_sent_media": (
        "💬 客户 <code>{customer}</code> 回复了（提醒 #{alert_id}）一条{kind}，无法转发。"
    ),
    "media_sticker": "贴纸",
    "media_photo": "图片",
    "media_voice": "语音消息",
    "media_video": "视频",
    "media_video_note": "视频消息",
    "media_document": "文件",
    "media_audio": "音频",
    "media_animation": "动图",
    "media_location": "位置",
    "media_contact": "联系人",
    "media_poll": "投票",
    "media_other": "其他消息",
    "media_message": "消息",
    # 处理提醒。
    "resolved": "✅ 提醒 #{alert_id}（客户 <code>{customer}</code>）已由 {admin} 标记为已处理。",
    "resolved_note": "\n备注：<i>{note}</i>",
    "already_resolved": "已由 {who} 于 {when} 处理。",
    "resolved_answer": "已标记为已处理。",
    "note_too_long": "备注太长（{length:,} 个字符，最多 {limit:,} 个）。",
    # /survey
    "survey_queued": "📨 已为客户 <code>{customer}</code> 安排调查 #{survey_id}。",
    "survey_skipped": "客户 <code>{customer}</code> 的调查 #{survey_id} 未发送：{reason}。",
    "skip_reason_not_linked": "客户尚未打开机器人链接",
    "skip_reason_opted_out": "客户已退订（/stop）",
    "skip_reason_blocked": "客户屏蔽了机器人",
    "bad_customer": "“{value}”不是有效的客户 ID：{problem}",
    # /export 与 /digest
    "no_answers_export": "{period}{filters}没有回答：没有可导出的内容。",
    "export_caption": "{rows:,} 条回答 · {period}{filters}",
    "export_truncated": " · 仅前 {rows:,} 条：请选择更短的时间段",
    "export_failed": "抱歉，无法生成导出文件。错误已记入日志，请重试。",
    "export_interrupted": "导出被中断：机器人正在重启。请一分钟后再次发送 /export。",
    "digest_failed": "抱歉，无法发送日报。错误已记入日志。",
    "digest_one_day": "请只指定一天。",
    # 报告参数（时间段与筛选）。
    "period_help": (
        "可用 today、yesterday、7d、30d、Nd（截至今天的 1–366 天）、"
        "YYYY-MM-DD 或 YYYY-MM-DD..YYYY-MM-DD。"
    ),
    "filter_help": "可用 event=<类型> 或 <属性>=<值>，例如 event=delivery 或 plan=pro。",
    "period_not_a_date": "“{text}”不是 YYYY-MM-DD 格式的日期。{help}",
    "period_bad_date": "“{text}”不是有效的日历日期。",
    "period_days_range": "天数必须在 1 到 {most} 之间，收到的是 {count}。",
    "period_reversed": "时间段的开始日期（{start}）晚于结束日期（{end}）。",
    "period_unknown": "无法识别时间段“{text}”。{help}",
    "period_too_long": "该时间段共 {days} 天，最多 {most} 天。",
    "period_in_future": "时间段的开始日期在未来（{start}）。",
    "period_at_most_one": "最多只能指定一个时间段。{help}",
    "filter_not_a_filter": "“{text}”不是筛选条件。{help}",
    "filter_bad_name": "“{key}”不是有效的筛选名称：请使用 1–32 个字母、数字或 _。{help}",
    "filter_no_value": "筛选条件 {key}= 需要一个值。{help}",
    "filter_value_too_long": "{key} 的值太长（{length} 个字符，最多 {most} 个）。",
    "filter_control_characters": "{key} 的值包含控制字符。",
    "filter_one_event": "只能指定一个事件筛选条件。",
    "filter_one_attribute": "只能指定一个属性筛选条件。",
    "filter_not_a_kind": "“{value}”不是调查类型：请使用 transactional、relationship 或 episode。",
    # 时间段的说法（“最近 7 天（2026-11-17 – 2026-11-23）”）。
    "period_today": "今天",
    "period_yesterday": "昨天",
    "period_last_days": "最近 {days} 天",
    "period_day_before": "之前 {days} 天",
    "period_days_before": "之前 {days} 天",
    "period_label": "{description}（{dates}）",
    # 贬损者提醒。
    "alert_title_score": "🚨 <b>贬损者 #{alert_id}</b> · 评分 <b>{score}</b>",
    "alert_title_reason": "💬 <b>贬损者 #{alert_id} 的原因</b> · 评分 <b>{score}</b>",
    "alert_customer": "客户 <code>{customer}</code>",
    "alert_attributes": "属性：{attributes}",
    "alert_attributes_more": "，…（另有 {count} 项）",
    "alert_no_event_type": "无事件类型",
    "alert_event": "事件：{event} · {kind}调查 · {when}",
    "alert_reason": "原因：<i>{reason}</i>",
    "alert_no_reason": "原因：<i>尚未填写</i>",
    "alert_resolved_by": "已由 {admin} 处理",
    "alert_batch": "🚨 <b>{count} 条贬损者提醒</b>",
    "alert_reply_button": "↩️ 回复{suffix}",
    "alert_resolve_button": "✅ 标记为已处理{suffix}",
    # /stats
    "stats_title": "<b>队列与发送状况</b>",
    "stats_surveys": "调查：{statuses}",
    "stats_status": "{status} {count}",
    "stats_outbox": "发件箱：待发送 {pending}{oldest} · 失败 {failed}",
    "stats_outbox_oldest": "（最早自 {when}）",
    "stats_last_send": "最近一次成功发送：{when}",
    "stats_last_survey": "最近一次发送调查：{when}",
    "stats_rate": (
        "启动以来 429（请求过多）：{count} 次 · 当前发送速率 {rate}/秒，上限 {configured}/秒"
    ),
    "stats_alerts": "提醒：未处理 {open} · 等待发布 {waiting}",
    "stats_last_digest": "最近一次定时日报：{day}",
    "stats_none_yet": "尚无",
    "stats_never": "从未",
    "stats_sent_since_start": "启动以来已发送调查：{count}",
    "stats_flood": "防刷屏：合并点击 {collapsed} 次，丢弃点击 {presses} 次、消息 {texts} 条，"
    "提醒放慢 {warned} 次，超出单聊天发送队列上限的回复 {replies} 条",
    "stats_privacy": "隐私：{retention} · 已删除 {erasures} 次",
    "stats_link_refusals": (
        "链接：过去 {days} 天拒绝了 {count} 次关联（客户已关联到其他聊天，或链接已被使用；"
        "每位客户的详情见运营接口）"
    ),
    "stats_retention_off": "未启用数据保留期限",
    "stats_retention": "数据保留 {days} 天，{last}",
    "stats_retention_last_run": "上次运行于 {when}：已匿名化 {count} 条",
    "stats_retention_not_run": "尚未运行",
    "stats_webhooks_none": "网络钩子：未配置",
    "stats_webhooks_ok": "网络钩子：{endpoints} 个端点正常，待发送 {pending}",
    "stats_webhooks_failing": "网络钩子：⚠️ 出错：{endpoints}",
    "stats_webhook_endpoint": "{url}（24 小时内失败 {failed} 次，重试中 {retrying}{error}）",
    "stats_webhook_error": "；{error}",
    # 调查状态与类型的名称。
    "status_pending": "待发送",
    "status_sent": "已发送",
    "status_answered": "已回答",
    "status_expired": "已过期",
    "status_failed": "失败",
    "status_skipped": "已跳过",
    "kind_transactional": "交易型",
    "kind_relationship": "关系型",
    "kind_episode": "旅程型",
}

#: 报告：每日日报、/nps 以及日报图表的标签。
REPORT: dict[str, str] = {
    # 日报与 /nps 共用。
    "no_answers": "无回答",
    "estimate": "{score}（n = {n}，{low} 至 {high}）",
    "estimate_few": "{score}（n = {n}，回答太少，无法给出区间）",
    "beyond": "超出噪声范围",
    "within": "在噪声范围内",
    "shares": "推荐者 {p}（{pp}）· 被动者 {s}（{sp}）· 贬损者 {d}（{dp}）",
    "one_kind": "<i>所有回答均来自{kind}调查。</i>",
    "by_kind": "按调查类型",
    "by_event_type": "按事件类型",
    "and_more": "… 另有 {n} 项",
    "no_value": "（无）",
    "days_in": "<i>日期按 {tz} 计算；区间为 95%。</i>",
    "cutoffs": "<i>评分使用非标准分界（{cutoffs}），不能与公开的 NPS 比较。</i>",
    "cutoffs_promoters": "推荐者 {span}",
    "cutoffs_passives": "被动者 {span}",
    "cutoffs_detractors": "贬损者 {span}",
    "cutoffs_no_detractors": "无贬损者",
    # 每日日报。
    "in_this_period": "本期",
    "on_the_day_before": "前一天",
    "in_the_previous": "前 {days} 天",
    "no_comparison": "无法比较（{missing}没有回答）",
    "change": "{points} 分，{verdict}",
    "no_answers_on": "{day} 没有回答。",
    "headline": "{day} <b>NPS {score}</b>（n = {n}，95% 区间 {low} 至 {high}）",
    "headline_few": "{day} <b>NPS {score}</b>（n = {n}，回答太少，无法给出区间）",
    "trend": "<b>趋势</b>",
    "vs_day_before": "与前一天相比：{change}（前一天 {estimate}）",
    "last_days": "最近 {days} 天 {current}，之前 {previous}：{change}",
    "no_surveys": "未发送调查。",
    "answered_of": "已发送 {sent} 份，回答 {answered} 份（回复率 {rate}）",
    "responses": "<b>回复</b>",
    "responses_line": "{line} · 过期 {expired} · 失败 {failed}",
    "by_named": "按 {name}",
    "by_attribute": "按属性",
    "digest_week_title": "<b>{company}：每周 NPS 摘要</b>",
    "digest_month_title": "<b>{company}：每月 NPS 摘要</b>",
    "drivers": "<b>驱动因素</b>",
    "detractors": "贬损者",
    "passives": "被动者",
    "promoters": "推荐者",
    "comments": "<b>最新评论</b>",
    "follow_up": "<b>跟进：</b>{detractors}，已跟进 {followed} 位",
    "detractor_one": "{n} 位贬损者",
    "detractor_many": "{n} 位贬损者",
    "title": "<b>NPS 日报 · {company} · {day}</b>",
    "caption_day": "当天：{estimate}",
    "caption_7": "7 天：{estimate}",
    "caption_30": "30 天：{estimate}",
    "caption_cutoffs": "<i>非标准分界。</i>",
    # 按需的 /nps 报告。
    "nps_title": "<b>NPS · {period}</b>",
    "nps_no_answers": "本期没有回答。",
    "nps_headline": "<b>NPS {score}</b>（n = {n}，95% 区间 {low} 至 {high}）",
    "nps_headline_few": "<b>NPS {score}</b>（n = {n}，回答太少，无法给出区间）",
    "nps_previous": "上一期{period}：{estimate}",
    "nps_no_comparison": "{previous}；无法比较。",
    "nps_change": "{previous}；变化 {points} 分，{verdict}。",
    # 日报图表（纯文本，无 HTML）。
    "chart_title": "{company} · NPS，截至 {day} 的 30 天",
    "chart_daily_nps": "每日 NPS",
    "chart_no_answers_period": "本期没有回答",
    "chart_interval": "95% 区间",
    "chart_nps": "NPS",
    "chart_score": "评分",
    "chart_answers": "回答数",
    "chart_no_answers": "无回答",
    "chart_rolling_nps": "7 天滚动 NPS",
    "chart_shares": "回答占比",
    "chart_no_answers_yet": "暂无回答",
    # /trend，以及每周和每月摘要的图表。
    "trend_title_weeks": "<b>按周 NPS，最近 {count} 周</b>",
    "trend_title_months": "<b>按月 NPS，最近 {count} 个月</b>",
    "trend_zone": "<i>每周从周一开始；日期按 {tz} 计算；区间为 95%。</i>",
    "trend_row": "{period}：{value}",
    "trend_so_far": "（截至目前）",
    "trend_chart_title_weeks": "{company} · 按周 NPS",
    "trend_chart_title_months": "{company} · 按月 NPS",
    "trend_chart_too_few": "回答少于 {min_sample} 条",
    # 评论主题：日报中的一节、/themes 及其图表（纯文本）。
    "themes": "<b>主题</b> · {period}",
    "themes_title": "<b>主题 · {period}</b>",
    "themes_none": "此时间段内没有已归类主题的评论。",
    "themes_detractors": "贬损者提到：{listed}",
    "themes_promoters": "推荐者提到：{listed}",
    "themes_row": "{name}：NPS {estimate} · 影响 {impact} · 与之前相比：{change}",
    "themes_no_previous": "之前的时间段内没有含此主题的回答",
    "themes_new": "新",
    "themes_note": (
        "<i>影响：全部回答的 NPS 减去不含该主题的回答的 NPS（负值：该主题拉低了分数）。</i>"
    ),
    "themes_last_days": "最近 {days} 天",
    "themes_chart_title": "{company} · 各主题 NPS，{period}",
    "themes_chart_axis": "NPS 及 95% 区间",
}
