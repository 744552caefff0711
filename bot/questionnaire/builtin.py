"""Built-in customer-facing texts: English and Simplified Chinese.

A questionnaire file may override any of them per language and per event type, and add
languages. Keys missing in a language fall back to the default language (reported at
start-up by :meth:`bot.questionnaire.catalog.Catalog.missing_translations`).
"""

from __future__ import annotations

# Texts that exist only since questionnaires (kinds of question, drivers, languages).
EN_EXTRA: dict[str, str] = {
    "question_transactional": (
        "How likely are you to recommend {company} to a friend or colleague, based on your "
        "recent {event}?\n0 = not at all likely, 10 = extremely likely"
    ),
    "question_relationship": (
        "How likely are you to recommend {company} to a friend or colleague?\n"
        "0 = not at all likely, 10 = extremely likely"
    ),
    "question_episode": (
        "Thinking of your whole experience with {company} so far, how likely are you to "
        "recommend us to a friend or colleague?\n0 = not at all likely, 10 = extremely likely"
    ),
    "event_default": "experience",
    "drivers_prompt": "What mattered most? Tap all that apply, then Done.",
    "drivers_done_button": "Done",
    "drivers_chosen": "What mattered most: {drivers}",
    "drivers_none": "What mattered most: (nothing picked)",
    "drivers_pending": "Please tap the factors that mattered, then Done.",
    "promoter_link_button": "Leave a review",
    "language_prompt": "Which language would you like?",
    "language_set": "Done. I'll write to you in English.",
    "language_invalid": "That language isn't available.",
}

ZH: dict[str, str] = {
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

# How each built-in language names itself on the /language keyboard.
LANGUAGE_NAMES: dict[str, str] = {"en": "English", "zh": "简体中文"}
