"""The app's words in English and Simplified Chinese, for Gradio's i18n.

A tab writes `i18n("key")` wherever the page shows words (labels, info texts, placeholders,
button texts, Markdown, tab names, choice labels); the browser picks the language (its own,
or the one chosen in the footer's Settings panel) and looks the key up in `I18N`.

Gradio's frontend shapes how the keys are used:

- one key per string: a string may hold one `str(i18n("key"))` with plain text before or after
  it (a number, a device name), never two keys;
- labels, info texts, placeholders, titles and values are translated, also when an update sends
  them; a plot's axis and legend titles are not reliably, so the plots carry their words in their
  titles; table headers (gr.Dataframe, gr.Examples) are not at all, so the Models table is Markdown;
- the words the server writes into a page (notes such as "Seed 5 · 16 images in 0.3 s", the
  Train tab's status, log and legends, error and upload sentences) follow the page's language
  too: the page tells the server in a cookie (LANGUAGE_HEAD), `say` words a sentence of `SAID`,
  and `translate` turns the library's English sentences (SENTENCES) into Chinese. API clients
  send no cookie and get English; model cards stay in English.

Names that read the same in both languages (Top-k, model ids, example prompts for models that
only know English) are written as plain strings, not keys.
"""

from __future__ import annotations

import re

import gradio as gr

# key -> (English, 简体中文)
TEXTS: dict[str, tuple[str, str]] = {
    # the page
    "app.intro": ("Generate with small models trained by this project, offline, or with Hugging Face Hub models "
                  "when online. Device: ",
                  "用本项目自己训练的小模型离线生成，联网时也可以使用 Hugging Face Hub 上的模型。运行设备："),
    "tab.text": ("Text", "文本"),
    "tab.image": ("Image", "图像"),
    "tab.conditional": ("Conditional image", "条件图像"),
    "tab.video": ("Video", "视频"),
    "tab.audio": ("Audio", "音频"),
    "tab.train": ("Train", "训练"),
    "tab.models": ("Models", "模型"),
    "tab.edit": ("Edit image", "图像编辑"),

    # words several tabs share
    "common.model": ("Model", "模型"),
    "common.prompt": ("Prompt", "提示词"),
    "common.label": ("Label", "标签"),
    "common.caption": ("Caption", "文字描述"),
    "common.seed": ("Seed", "随机种子"),
    "common.seed_info": ("-1 = a new random seed each time", "-1 表示每次使用新的随机种子"),
    "common.random_seed": ("Random seed", "随机取值"),
    "common.generate": ("Generate", "生成"),
    "common.stop": ("Stop", "停止"),
    "common.samples": ("Samples", "生成样本"),
    "common.grid": ("Grid (PNG)", "网格图（PNG）"),
    "common.examples": ("Examples", "示例"),
    "common.examples_then_generate": ("Examples (click one, then Generate)", "示例（点一个，再点「生成」）"),
    "common.num_images": ("Number of images", "图像数量"),
    "common.denoising_steps": ("Denoising steps", "去噪步数"),
    "common.guidance": ("Guidance scale", "引导系数"),
    "common.negative_prompt": ("Negative prompt", "反向提示词"),
    "common.frames": ("Frames", "帧数"),

    # Text tab
    "text.prompt_placeholder": ("Type the start of a scene, or leave empty to begin a new work.",
                                "输入一段场景的开头（内置模型只会写英文），留空则从头写一部新作品。"),
    "text.model_info": ("A built-in model, or type any Hugging Face Hub id (needs the internet the first time).",
                        "内置模型，或输入任意 Hugging Face Hub 模型 ID（首次使用需要联网）。"),
    "text.sampling": ("Sampling", "采样设置"),
    "text.max_new_tokens": ("Max new tokens", "最多生成的 token 数"),
    "text.temperature": ("Temperature", "温度"),
    "text.temperature_info": ("0 = always the most likely token", "0 表示总是选概率最高的 token"),
    "text.top_k_info": ("0 = off", "0 表示不启用"),
    "text.output": ("Text", "生成的文本"),
    "text.mode_write": ("Continue a prompt", "续写"),
    "text.mode_edit": ("Edit: fill in words", "编辑：填词改写"),
    "edit.passage": ("Passage", "段落"),
    "edit.passage_placeholder": ("Type [MASK] where a word should go, or select words and blank them.",
                                 "在要填词的地方输入 [MASK]，或选中几个词后把它们遮住。"),
    "edit.model_info": ("A masked language model: the built-in BERT, or a Hub id such as bert-base-uncased or "
                        "bert-base-chinese (needs the internet the first time).",
                        "掩码语言模型：内置的 BERT，或 Hub 上的模型 ID，例如 bert-base-uncased、bert-base-chinese（首次使用需要联网）。"),
    "edit.blank_selection": ("Blank the selected words", "遮住选中的词"),
    "edit.fill": ("Fill the blanks", "填空"),
    "edit.top_k": ("Candidates per blank", "每个空的候选词数"),
    "edit.rewrite_section": ("Rewrite the whole passage, word by word", "逐词改写整段"),
    "edit.temperature_info": ("0 = each word's most likely replacement", "0 表示每个词都换成最可能的词"),
    "edit.keep": ("Words to keep", "保留的词"),
    "edit.keep_info": ("Separated by spaces or commas; each stays wherever it occurs.", "用空格或逗号分隔；这些词出现在哪里都保持不变。"),
    "edit.rewrite": ("Rewrite", "改写"),
    "edit.blank": ("Blank", "空"),
    "edit.result": ("Edited passage (red: taken out, green: put in)", "编辑后的段落（红色：删去，绿色：填入）"),
    "edit.result_text": ("Edited text", "编辑后的文本"),
    "edit.use": ("Edit this text further", "继续编辑这段文本"),

    # Image tab
    "image.model_info": ("A built-in model, or the Hub id of an unconditional diffusers pipeline.",
                         "内置模型，或 Hub 上某个无条件生成的 diffusers pipeline 的 ID。"),
    "image.scheduler": ("Scheduler", "调度器"),
    "image.scheduler_info": ("DDIM and DPM-Solver++ need 10 to 50 steps; DDPM, the original sampler, needs as many as the "
                             "slider allows.",
                             "DDIM 和 DPM-Solver++ 只需 10 到 50 步；DDPM 是最初的采样器，步数要拉到滑块的最大值。"),
    "image.walk": ("Latent walk: morph one seed's image into another's",
                   "潜空间漫步：让一个种子的图像渐变成另一个种子的图像"),
    "image.seed_a": ("Seed A", "种子 A"),
    "image.seed_b": ("Seed B", "种子 B"),
    "image.walk_button": ("Walk", "开始漫步"),
    "image.walk_gif": ("Walk (GIF)", "漫步动画（GIF）"),
    "image.vae": ("VAE: reconstruct a real held-out digit", "VAE：重建一个训练时没见过的真实手写数字"),
    "image.reconstruct_button": ("Reconstruct a random real digit", "随机挑一个真实数字来重建"),
    "image.real_digit": ("Real digit", "真实数字"),
    "image.reconstruction": ("Reconstruction", "重建结果"),

    # Conditional image tab
    "cond.by_condition": ("By label or caption", "按标签或描述生成"),
    "cond.model_info": ("Built-in: digits by label, shapes by caption. Or the Hub id of a text-to-image pipeline.",
                        "内置模型：按标签画数字，按描述画图形。也可以填 Hub 上文生图 pipeline 的 ID。"),
    "cond.condition_info": ("A label ('7') for label models; a caption ('a large red star in the top right') "
                            "for caption models.",
                            "标签模型填标签（如 '7'）；描述模型填英文描述（如 'a large red star in the top right'）。"),
    "cond.guidance_info": ("Classifier-free guidance: higher follows the condition more closely, with less variety.",
                           "无分类器引导（classifier-free guidance）：数值越大越贴合条件，但多样性越低。"),
    "cond.hub_options": ("Hub options", "Hub 模型选项"),
    "cond.width": ("Width", "宽度"),
    "cond.height": ("Height", "高度"),
    "cond.show_all": ("Show all labels", "显示所有标签"),
    "cond.img2img": ("Image to image (Hub)", "图生图（Hub）"),
    "cond.source": ("Picture to redraw", "要重绘的图片"),
    "cond.redraw": ("Redraw", "重绘"),
    "cond.result": ("Result", "结果"),
    "cond.inpaint": ("Inpaint (Hub)", "局部重绘（Hub）"),
    "cond.editor": ("Upload a picture, then paint over what should change.", "上传一张图片，然后涂抹需要修改的地方。"),
    "cond.editor_label": ("Picture", "图片"),
    "cond.repaint": ("Repaint", "重绘涂抹区域"),
    "hub.model": ("Hub model", "Hub 模型"),
    "hub.model_info": ("The id of a diffusers text-to-image pipeline; it needs the internet the first time.",
                       "diffusers 文生图 pipeline 的 ID；首次使用需要联网。"),
    "hub.strength": ("Strength", "重绘强度"),
    "hub.strength_info": ("How much to change: 0 keeps the picture, 1 redraws it.", "改动多少：0 保留原图，1 完全重画。"),
    "hub.steps": ("Steps", "步数"),
    "hub.seed_info": ("-1 = random", "-1 表示随机"),

    # Video tab
    "video.model_info": ("Built-in: moving shapes from a caption. Or the Hub id of a diffusers text-to-video pipeline.",
                         "内置模型：根据描述生成运动的图形。也可以填 Hub 上 diffusers 文生视频 pipeline 的 ID。"),
    "video.prompt_info": ("Built-in words: a color, shape, size, start position and motion "
                          "(moving left/right/up/down, bouncing); any of them may be left out.",
                          "内置模型认识的英文词：颜色、形状、大小、起始位置和运动方式"
                          "（moving left/right/up/down、bouncing）；每一项都可以省略。"),
    "video.fps": ("Frames per second", "帧率"),
    "video.clip": ("Clip", "生成的视频"),
    "video.strip": ("Frames", "逐帧画面"),
    "video.gif": ("GIF", "GIF 动图"),

    # Audio tab
    "audio.model_info": ("Built-in: spoken digits and sound effects (spectrogram diffusion models), and spoken digits "
                         "written sample by sample (WaveNet); runs you train (Train tab) appear here too. Or the Hub id "
                         "of a text-to-speech or text-to-audio model.",
                         "内置模型：说出数字和音效（频谱扩散模型），以及逐个采样点写出的数字语音（WaveNet）；"
                         "在「训练」页训练的模型也会出现在这里。也可以填 Hub 上文字转语音或文字转音频模型的 ID。"),
    "audio.digits": ("Digits to say", "要说的数字"),
    "audio.digits_info": ("Digit words or numerals, in English: 'seven', '3 1 4'. One clip per digit.",
                          "英文数字单词或阿拉伯数字：seven、3 1 4。每个数字一段音频。"),
    "audio.caption_info": ("Built-in words: a kind of sound, its pitch, length, direction or speed; any may be left out.",
                           "内置模型认识的英文词：声音种类、音高、长短、方向或快慢；每一项都可以省略。"),
    "audio.prompt_info": ("What to say (text to speech) or what the sound is (text to audio).",
                          "要朗读的文字（文字转语音），或对声音的描述（文字转音频）。"),
    "audio.takes": ("Clips of each", "每个生成几段"),
    "audio.temperature": ("Temperature", "温度"),
    "audio.seconds": ("Length (seconds)", "时长（秒）"),
    "audio.clip": ("Clip", "生成的音频"),
    "audio.waveform": ("Waveform", "波形"),
    "audio.spectrogram": ("Spectrogram (mel scale)", "频谱图（梅尔刻度）"),

    # Edit image tab
    "edit.intro": ("Upload a picture or pick a sample photo, then choose a tool. The built-in tools work offline: "
                   "\"damage it first\" adds known damage so you can see how much the tool gets back.",
                   "上传一张图片或选一张示例照片，再选择工具。内置工具可离线使用：「先损坏」会先加上已知的损坏，"
                   "让你看到工具能恢复多少。"),
    "edit.picture": ("Picture (paint over a hole to fill it)", "图片（涂抹要填补的区域）"),
    "edit.sample": ("Or a sample photo (never seen in training)", "或选一张示例照片（训练中从未见过）"),
    "edit.restore": ("Restore", "修复"),
    "edit.restore_info": ("Removes noise, salt-and-pepper specks and JPEG blocks; strokes painted on the picture mark "
                          "a hole to fill.", "去除噪声、椒盐噪点和 JPEG 块状失真；在图片上涂抹的部分会被当作要填补的缺损。"),
    "edit.noise": ("Gaussian noise", "高斯噪声"),
    "edit.saltpepper": ("Salt and pepper", "椒盐噪声"),
    "edit.hole": ("A hole", "缺损区域"),
    "edit.damage_first": ("Damage it first", "先损坏"),
    "edit.amount": ("Amount", "损坏程度"),
    "edit.amount_info": ("Noise: sigma (1-75); salt and pepper: share of pixels (0.005-0.5); JPEG: quality (5-95); "
                         "a hole: share of the picture (0.01-0.4)",
                         "噪声：sigma（1-75）；椒盐：像素比例（0.005-0.5）；JPEG：质量（5-95）；缺损：占图片的比例（0.01-0.4）"),
    "edit.restore_go": ("Restore", "修复"),
    "edit.upscale": ("Upscale", "放大"),
    "edit.scale": ("Scale", "放大倍数"),
    "edit.builtin": ("Built-in (offline)", "内置（离线）"),
    "edit.upscale_model_info": ("Built-in: a sub-pixel network trained on photos. Or a Hub id (Swin2SR, a diffusion "
                                "upscaler) when online.", "内置：在照片上训练的亚像素卷积网络。联网时也可填 Hub 模型 id"
                                "（Swin2SR、扩散放大模型）。"),
    "edit.shrink": ("Shrink it first", "先缩小"),
    "edit.shrink_info": ("Shrink the picture by the scale, then enlarge it back and compare with the original",
                         "先按倍数缩小，再放大回来，与原图比较"),
    "edit.upscale_go": ("Upscale", "放大"),
    "edit.restyle": ("Restyle", "风格迁移"),
    "edit.style": ("Style picture", "风格图片"),
    "edit.style_upload": ("Or upload a style picture", "或上传一张风格图片"),
    "edit.style_steps": ("Steps", "迭代步数"),
    "edit.strength": ("Style strength", "风格强度"),
    "edit.strength_info": ("Higher: more texture, less of the picture", "越高纹理越多，原图内容越少"),
    "edit.restyle_go": ("Restyle", "迁移风格"),
    "edit.instruct": ("Instruct (Hub)", "指令编辑（Hub）"),
    "edit.instruct_info": ("An InstructPix2Pix model from the Hub edits the picture as you tell it; needs the network.",
                           "用 Hub 上的 InstructPix2Pix 模型按你的指令编辑图片；需要联网。"),
    "edit.instruction": ("Instruction", "指令"),
    "edit.instruct_go": ("Edit", "编辑"),
    "edit.before_after": ("Before | after (drag the line)", "之前 | 之后（拖动分隔线）"),
    "edit.download": ("Result (PNG)", "结果（PNG）"),

    # Train tab
    "train.off": ("Training is turned off on this server: you can watch runs and download their models.",
                  "这台服务器关闭了训练功能：你仍然可以查看训练任务并下载训练好的模型。"),
    "train.kind": ("Model kind", "模型类型"),
    "train.kind.gpt": ("GPT: text, one character at a time", "GPT：文本，逐字符生成"),
    "train.kind.lstm": ("LSTM: text, one character at a time", "LSTM：文本，逐字符生成"),
    "train.kind.bert": ("BERT: fill in masked words", "BERT：填写被遮住的词"),
    "train.kind.dcgan": ("DCGAN: images", "DCGAN：图像"),
    "train.kind.vae": ("VAE: images", "VAE：图像"),
    "train.kind.diffusion": ("Diffusion (DDPM): images", "扩散模型（DDPM）：图像"),
    "train.kind.cgan": ("Conditional GAN: a digit for each label", "条件 GAN：按标签生成数字"),
    "train.kind.guided-diffusion": ("Conditional diffusion: labels, classifier-free guidance",
                                    "条件扩散模型：按标签生成，无分类器引导"),
    "train.kind.text2img": ("Text to image: captions of shapes", "文生图：根据描述画图形"),
    "train.kind.text2video": ("Text to video: captions of moving shapes", "文生视频：根据描述生成运动的图形"),
    "train.kind.mel-diffusion": ("Spectrogram diffusion: spoken digits or sound effects",
                                 "频谱扩散模型：说出的数字或音效"),
    "train.kind.wavenet": ("WaveNet: speech, one sample at a time", "WaveNet：语音，逐个采样点生成"),
    "train.kind.restorer": ("Restorer: removes noise and fills holes in photos", "修复网络：去除照片噪声、填补缺损"),
    "train.kind.upscaler": ("Upscaler (ESPCN): enlarges photos", "超分辨率网络（ESPCN）：放大照片"),
    "train.data": ("Data", "数据集"),
    "train.your_images": ("Your images (.zip)", "你自己的图片（.zip）"),
    "train.upload": ("Images (.zip; folders inside name the labels)", "图片（.zip；其中的文件夹名就是标签）"),
    "train.run_name": ("Run name", "任务名称"),
    "train.run_name_placeholder": ("kind-data (numbered if taken)", "类型-数据集（重名时自动编号）"),
    "train.steps": ("Steps", "训练步数"),
    "train.batch": ("Batch size", "批大小"),
    "train.lr": ("Learning rate", "学习率"),
    "train.sample_every": ("Sample every N steps", "每 N 步采样一次"),
    "train.start": ("Start", "开始训练"),
    "train.examples": ("Examples (click one, then Start)", "示例（点一个，再点「开始训练」）"),
    "train.run": ("Run", "训练任务"),
    "train.run_info": ("Pick a past run to see its curves, resume it or download its model.",
                       "选择一个以往的训练任务，查看曲线、继续训练或下载模型。"),
    "train.resume": ("Resume", "继续训练"),
    "train.download": ("Download model (.zip)", "下载模型（.zip）"),
    "train.model_zip": ("Model (.zip): the best checkpoint, with its card", "模型（.zip）：最佳检查点及其模型卡"),
    "train.no_run": ("No run yet: choose a kind and press Start.", "还没有训练任务：选好模型类型，然后点「开始训练」。"),
    "train.waiting": ("Waiting for the run to start…", "正在等待训练开始…"),
    "train.loss_plot": ("Loss by step (raw and smoothed)", "各训练步的损失（原始值与平滑值）"),
    "train.loss_plot_val": ("Loss by step (raw and smoothed; validation)", "各训练步的损失（原始值与平滑值；验证集）"),
    "train.d_plot": ("Discriminator: probability real", "判别器输出：判为真实的概率"),
    "train.lr_plot": ("Learning rate by step", "各训练步的学习率"),
    "train.sample_text": ("Sample", "生成样本"),
    "train.sample_at": ("Sample at step", "生成样本 · 训练步数"),
    "train.samples_at": ("Samples at step", "生成样本 · 训练步数"),
    "train.log": ("Log", "日志"),

    # Models tab
    "models.header": ("| Model | Task | Kind | Data | Parameters | Quality (real data) | Speed | Source |",
                      "| 模型 | 任务 | 类型 | 数据集 | 参数量 | 质量（真实数据） | 速度 | 来源 |"),
    "models.none": ("No models yet.", "还没有模型。"),
}

# The names Gradio's Settings panel gives the languages this table has: it lists only these.
LANGUAGES = ("English", "简体中文")
I18N = gr.I18n(en={key: en for key, (en, _) in TEXTS.items()}, zh={key: zh for key, (_, zh) in TEXTS.items()})
i18n = I18N  # the name the tabs call: i18n("key")


# What the server writes into the page for a browser (the Train tab's status line, log and plot
# legends, error sentences) follows the page's language too. The browser tells it in a cookie,
# set before the app starts and again whenever the language changes (the footer's Settings);
# API clients send none and get English.
LANGUAGE_COOKIE = "aigc-lang"
LANGUAGE_HEAD = """<script>
(() => {
  const tell = (lang) => { document.cookie = `%s=${encodeURIComponent(lang || "en")}; path=/; SameSite=Lax`; };
  tell(navigator.language);
  new MutationObserver(() => tell(document.documentElement.lang))
    .observe(document.documentElement, {attributes: true, attributeFilter: ["lang"]});
})();
</script>""" % LANGUAGE_COOKIE

# key -> (English, 简体中文), with str.format fields
SAID: dict[str, tuple[str, str]] = {
    "note.fill": ("{n} blank(s), each filled with the model's first choice: pick another under its number.",
                  "共 {n} 个空，每个先填入模型的首选词：可以在对应编号下改选其他候选词。"),
    "note.rewrite": ("Seed {seed} · {n} of {words} words changed.", "随机种子 {seed} · {words} 个词中改了 {n} 个。"),
    "status.step": ("step {step:,} / {total:,}", "第 {step:,} / {total:,} 步"),
    "status.speed": ("{steps_per_s:.1f} steps/s · {samples_per_s:,.0f} samples/s", "每秒 {steps_per_s:.1f} 步 · 每秒 {samples_per_s:,.0f} 个样本"),
    "status.eta": ("ETA {eta}", "预计还需 {eta}"),
    "status.best": ("★ best checkpoint: step {step:,}", "★ 最佳检查点：第 {step:,} 步"),
    "status.best_metric": ("★ best checkpoint: step {step:,} (lowest {metric}: {value:.4g})",
                           "★ 最佳检查点：第 {step:,} 步（{metric}最低：{value:.4g}）"),
    "metric.val_loss": ("validation loss", "验证损失"),
    "metric.train_loss": ("training loss", "训练损失"),
    "metric.score": ("selection score", "选择分数"),
    "state.training": ("training", "训练中"),
    "state.finished": ("finished", "已完成"),
    "state.stopped": ("stopped", "已停止"),
    "state.nan": ("stopped: a loss became NaN", "已停止：损失变成了 NaN"),
    "state.exception": ("failed", "出错"),
    "state.error": ("failed", "出错"),
    "state.idle": ("not running", "未在训练"),
    "state.busy": ("Start waits: '{run}' is training now; stop it or let it finish first.",
                   "「开始训练」需要等待：「{run}」正在训练；请先停止它，或等它训练完。"),
    "duration.s": ("{s} s", "{s} 秒"),
    "duration.min": ("{m} min {s:02d} s", "{m} 分 {s:02d} 秒"),
    "duration.h": ("{h} h {m:02d} min", "{h} 小时 {m:02d} 分"),
    "log.started": ("step {step:,}: started on {hardware}", "第 {step:,} 步：开始训练，设备 {hardware}"),
    "log.resumed": ("step {step:,}: resumed on {hardware}", "第 {step:,} 步：继续训练，设备 {hardware}"),
    "log.note": ("note: {note}", "提示：{note}"),
    "log.eval": ("step {step:,}: {figures}", "第 {step:,} 步：{figures}"),
    "log.best": ("  ★ best so far, saved", "  ★ 目前最佳，已保存"),
    "log.kept": ("  ★ newest weights saved (nothing judges this data)", "  ★ 已保存最新权重（没有评判这类数据的指标）"),
    "status.kept": ("★ model kept: step {step:,}, the newest (nothing judges this data)", "★ 保留的模型：第 {step:,} 步，即最新的（没有评判这类数据的指标）"),
    "log.checkpoint": ("step {step:,}: checkpoint saved", "第 {step:,} 步：检查点已保存"),
    "end.finished": ("step {step:,}: finished; the best checkpoint is step {best_step:,}.",
                     "第 {step:,} 步：训练完成；最佳检查点在第 {best_step:,} 步。"),
    "end.finished_newest": ("step {step:,}: finished; nothing judges this data, so the model kept is the newest one (step {best_step:,}).",
                            "第 {step:,} 步：训练完成；没有评判这类数据的指标，所以保留的是最新的模型（第 {best_step:,} 步）。"),
    "end.stopped": ("step {step:,}: stopped; the checkpoint is saved (Resume continues from here).",
                    "第 {step:,} 步：已停止，检查点已保存（点「继续训练」可从这里接着训练）。"),
    "end.nan": ("step {step:,}: {message}", "第 {step:,} 步：损失变成了无穷大或 NaN，训练已停止；保留了最后一个正常的检查点（可以试试更低的学习率）。"),
    "end.other": ("step {step:,}: {message}", "第 {step:,} 步：{message}"),
    "note.images": ("Seed {seed} · {n} images in {s:.2f} s.", "随机种子 {seed} · {n} 张图像，用时 {s:.2f} 秒。"),
    "note.images_most": ("Seed {seed} · {n} images, the most one request draws, in {s:.2f} s.",
                         "随机种子 {seed} · {n} 张图像（单次请求最多画这么多），用时 {s:.2f} 秒。"),
    "note.labels": ("Seed {seed} · one row per label ({labels}) in {s:.2f} s.", "随机种子 {seed} · 每个标签一行（{labels}），用时 {s:.2f} 秒。"),
    "note.seed": ("Seed {seed}.", "随机种子 {seed}。"),
    "note.text": ("Seed {seed} · {n} tokens · {tps:.0f} tokens/s.", "随机种子 {seed} · {n} 个 token · 每秒 {tps:.0f} 个 token。"),
    "note.text_eos": ("Seed {seed} · {n} tokens · {tps:.0f} tokens/s · the model ended the text.",
                      "随机种子 {seed} · {n} 个 token · 每秒 {tps:.0f} 个 token · 模型自己结束了文本。"),
    "note.text_stopped": ("Seed {seed} · {n} tokens · {tps:.0f} tokens/s · stopped.",
                          "随机种子 {seed} · {n} 个 token · 每秒 {tps:.0f} 个 token · 已停止。"),
    "note.video": ("Seed {seed} · {n} frames in {s:.2f} s ({length:.1f} s of video at {fps} fps).",
                   "随机种子 {seed} · {n} 帧，用时 {s:.2f} 秒（{length:.1f} 秒视频，每秒 {fps} 帧）。"),
    "note.audio": ("Seed {seed} · {n} clip(s) of {length:.2f} s at {rate:,} Hz ({said}) in {s:.2f} s.",
                   "随机种子 {seed} · {n} 段音频，每段 {length:.2f} 秒，采样率 {rate:,} Hz（{said}），用时 {s:.2f} 秒。"),
    "note.edit": ("Done in {s:.2f} s.", "用时 {s:.2f} 秒。"),
    "note.edit_measured": ("Against the undamaged picture: PSNR {pb:.2f} dB before, **{pa:.2f} dB after**; "
                           "SSIM {sb:.3f} before, **{sa:.3f} after**.",
                           "与未损坏的原图相比：PSNR 处理前 {pb:.2f} dB，**处理后 {pa:.2f} dB**；"
                           "SSIM 处理前 {sb:.3f}，**处理后 {sa:.3f}**。"),
    "upload.ok": ("'{name}': {n:,} pictures of {w}x{h}; the models train on them at 32x32.",
                  "「{name}」：{n:,} 张 {w}x{h} 的图片；模型会缩放到 32x32 来训练。"),
    "upload.ok_labels": ("'{name}': {n:,} pictures of {w}x{h} in {k} labelled folders ({labels}); the models train on them at 32x32.",
                         "「{name}」：{n:,} 张 {w}x{h} 的图片，分在 {k} 个带标签的文件夹里（{labels}）；模型会缩放到 32x32 来训练。"),
    "upload.refused": ("'{name}': {reason}", "「{name}」：{reason}"),
    "series.raw": ("{name} (raw)", "{name}（原始值）"),
    "series.learning_rate": ("learning rate", "学习率"),
    "series.loss": ("loss", "损失"),
    "series.val_loss": ("validation loss", "验证损失"),
    "series.g_loss": ("generator loss", "生成器损失"),
    "series.d_loss": ("discriminator loss", "判别器损失"),
    "series.kl": ("KL divergence", "KL 散度"),
    "series.reconstruction": ("reconstruction", "重建损失"),
    "series.d_aux": ("attribute loss (D)", "属性损失（判别器）"),
    "series.g_aux": ("attribute loss (G)", "属性损失（生成器）"),
    "series.drift": ("frame drift", "帧间漂移"),
    "series.d_real": ("D(x)", "D(真实)"),
    "series.d_fake": ("D(G(z))", "D(生成)"),
    "series.d_wrong": ("D(x, wrong condition)", "D(真实, 错误条件)"),
    "series.d_frame_real": ("D(frame of x)", "D(真实单帧)"),
    "series.d_frame_fake": ("D(frame of G(z))", "D(生成单帧)"),
}


def language(request) -> str:
    """'zh' when the page that sent `request` is in Chinese, else 'en' (API clients included)."""
    try:
        chosen = request.cookies.get(LANGUAGE_COOKIE, "")
    except AttributeError:  # no request (a Python call), or one without cookies
        return "en"
    return "zh" if chosen.lower().startswith("zh") else "en"


def say(lang: str, key: str, **fields) -> str:
    """The sentence `key` in `lang`, its fields filled in."""
    en, zh = SAID[key]
    return (zh if lang == "zh" else en).format(**fields)


# The library's sentences (aigc.AigcError and its answers) are English, the same for every client;
# a page in Chinese reads these in Chinese. English pattern (named fields) -> Chinese sentence.
SENTENCES: list[tuple[str, str]] = [
    (r"Upload a picture first \(or pick a sample photo\)\.", "请先上传一张图片（或选一张示例照片）。"),
    (r"The picture was (?P<a>\d+x\d+); it was shrunk to (?P<b>\d+x\d+) \(this server works on at most (?P<side>\d+) "
     r"pixels a side\)\.", "图片原为 {a}，已缩小到 {b}（这台服务器处理的图片每边最多 {side} 像素）。"),
    (r"The picture was (?P<a>\d+x\d+); it was shrunk to (?P<b>\d+x\d+) so that, enlarged, it stays within this "
     r"server's (?P<side>\d+) pixels a side\.", "图片原为 {a}，已缩小到 {b}，这样放大后每边不超过这台服务器的 {side} 像素。"),
    (r"(?P<what>.+) names no sound this model knows\. Use its words \((?P<words>.+)\), for example (?P<e>'.+')\.",
     "{what} 没有说出这个模型认识的声音。请用它认识的英文词（{words}），例如 {e}。"),
    (r"Words it does not know were left out: (?P<words>.+)\.", "不认识的词已略去：{words}。"),
    (r"This model says the digits zero to nine; (?P<what>.+) names none of them\. Type digit words or numerals, "
     r"for example 'seven' or '3 1 4'\.",
     "这个模型只会说 zero 到 nine 这十个数字；{what} 里没有数字。请输入英文数字单词或阿拉伯数字，例如 seven 或 3 1 4。"),
    (r"Type the digits to say, as words or numerals: 'seven', '3 1 4'\.",
     "请输入要说的数字，英文单词或阿拉伯数字都可以：seven、3 1 4。"),
    (r"That is (?P<n>\d+) clips \((?P<d>\d+) digits, (?P<t>\d+) of each\); the limit is (?P<most>\d+)\.",
     "一共是 {n} 段音频（{d} 个数字，每个 {t} 段）；上限是 {most} 段。"),
    (r"'(?P<run>.+)' is training now; stop it or let it finish first \(this app trains (?P<n>\d+) runs? at a time\)\.",
     "「{run}」正在训练；请先停止它，或等它训练完（这个应用同时最多训练 {n} 个任务）。"),
    (r"A run named '(?P<run>.+)' exists already: Resume it, or choose another name\.",
     "已经有名为「{run}」的训练任务：可以继续训练它，或换一个名字。"),
    (r"There is no run named '(?P<run>.+)'\.", "没有名为「{run}」的训练任务。"),
    (r"There is no checkpoint to resume in run '(?P<run>.+)'\.", "训练任务「{run}」还没有可以继续的检查点。"),
    (r"Run '(?P<run>.+)' finished at step (?P<step>[\d,]+); raise Steps above that to train it further\.",
     "训练任务「{run}」已在第 {step} 步完成；要继续训练，请把训练步数设得比它大。"),
    (r"Run '(?P<run>.+)' has no saved model yet\.", "训练任务「{run}」还没有保存模型。"),
    (r"Choose a run to resume\.", "请先选择要继续训练的任务。"),
    (r"Choose a run first\.", "请先选择一个训练任务。"),
    (r"Stopping '(?P<run>.+)': it saves a checkpoint, then ends\.", "正在停止「{run}」：先保存检查点，然后结束。"),
    (r"No run is training\.", "没有正在训练的任务。"),
    (r"'(?P<run>.+)' was started in another browser; only that browser can stop it\.",
     "「{run}」是在另一个浏览器里开始的，只有那个浏览器可以停止它。"),
    (r"Training is turned off on this server; run the app on your own machine to train\.",
     "这台服务器关闭了训练功能；请在你自己的电脑上运行本应用来训练。"),
    (r"This server trains at most (?P<n>[\d,]+) steps a run\.", "这台服务器每个训练任务最多训练 {n} 步。"),
    (r"This server trains with batches of at most (?P<n>[\d,]+)\.", "这台服务器的批大小最多为 {n}。"),
    (r"(?P<what>Steps|Batch size|Sample every|Seed) must be a whole number of (?P<n>[01]) or more\.",
     "{what}必须是不小于 {n} 的整数。"),
    (r"The learning rate must be a number above 0 and at most 1\.", "学习率必须大于 0 且不超过 1。"),
    (r"Upload a \.zip of images to train on, or choose a built-in dataset\.", "请上传一个图片 .zip 文件，或选择一个内置数据集。"),
    (r"A run name uses letters, digits, '\.', '_' and '-' only \(at most 64 characters\)\.",
     "任务名称只能包含字母、数字、'.'、'_' 和 '-'（最多 64 个字符）。"),
    (r"'(?P<name>.+)' is not a \.zip archive\.", "「{name}」不是 .zip 压缩包。"),
    (r"The archive holds no images \(\.png, \.jpg, \.bmp, \.gif or \.webp\)\.",
     "压缩包里没有图片（.png、.jpg、.bmp、.gif 或 .webp）。"),
    (r"'(?P<name>.+)' is not a readable image\.", "「{name}」不是可以读取的图片。"),
    (r"The images have different sizes \((?P<sizes>.+)\); resize them to one size first\.",
     "图片尺寸不一致（{sizes}）；请先把它们缩放到同一尺寸。"),
    (r"The (?P<what>image|mask) file is not a picture this app can read \(PNG, JPEG, WebP, \.\.\.\)\.",
     "这个文件不是本应用能读取的图片（PNG、JPEG、WebP 等）。"),
    (r"The (?P<what>image|mask) file is damaged or not a picture this app can read\.", "这个文件已损坏，或不是本应用能读取的图片。"),
    (r"'(?P<model>.+)' is not in the local cache and the Hugging Face Hub cannot be reached; pick a built-in model or "
     r"connect to the internet\.",
     "「{model}」不在本地缓存中，而且连不上 Hugging Face Hub；请选择一个内置模型，或连接互联网。"),
    # aigc.hub.load_error: what the Hub answered
    (r"'(?P<model>.+)' is gated on the Hugging Face Hub: accept its terms on its page and log in "
     r"\(hf auth login\) first\.",
     "「{model}」在 Hugging Face Hub 上需要授权：请先在它的页面上同意条款，并登录（hf auth login）。"),
    (r"'(?P<model>.+)' is not a model on the Hugging Face Hub \(or it is private\)\.",
     "「{model}」不是 Hugging Face Hub 上的模型（或者它是私有的）。"),
    (r"'(?P<model>.+)' has no such revision on the Hugging Face Hub\.", "「{model}」在 Hugging Face Hub 上没有这个版本。"),
    (r"The data hold (?P<n>[\d,]+) pictures, fewer than a batch of (?P<batch>[\d,]+), so the batch size is (?P<most>[\d,]+)(?P<rest>.*)\.",
     "数据只有 {n} 张图片，不够一个批次（{batch}），所以批大小改为 {most}。"),
    (r"Choose a model: a built-in name or a Hugging Face Hub id\.", "请选择模型：内置模型名或 Hugging Face Hub 模型 ID。"),
    # aigc.serving.ended: a worker that ended mid-call
    (r"The process that draws pictures ended before it answered; please try again\.", "绘图的进程在回答之前结束了；请再试一次。"),
    (r"The process that writes text ended before it answered; please try again\.", "写文本的进程在回答之前结束了；请再试一次。"),
    # aigc.loaders and aigc.pipelines.audio_hub: sound from Hub models
    (r"'(?P<model>.+)' is an? (?P<what>\S+) model, not a sound generator\.", "「{model}」是 {what} 模型，不是声音生成模型。"),
    (r"'(?P<model>.+)' is an? (?P<what>.+), not a sound generator\.", "「{model}」是 {what}，不是声音生成模型。"),
    (r"'(?P<model>.+)' is an? (?P<what>\w+), not a text-to-audio pipeline; the Audio tab needs one such as "
     r"(?P<example>\S+)\.", "「{model}」是 {what}，不是文本生成音频的流水线；音频页需要这样的模型，例如 {example}。"),
    (r"'(?P<model>.+)' has neither a model_index\.json \(diffusers\) nor a config\.json \(transformers\), so it is "
     r"not a sound generator\.", "「{model}」既没有 model_index.json（diffusers），也没有 config.json（transformers），所以不是声音生成模型。"),
    (r"'(?P<model>.+)' does not say its sampling rate, so its sound cannot be played\.",
     "「{model}」没有给出采样率，所以无法播放它生成的声音。"),
    (r"Type what the model should say, or describe the sound or music to make\.",
     "请输入要让模型说的话，或描述要生成的声音或音乐。"),
    (r"'(?P<model>.+)' knows none of the characters in this text; type it in the model's own language\.",
     "「{model}」不认识这段文字里的任何字符；请用这个模型的语言输入。"),
    (r"This model makes sound as long as the text needs, so the length setting is not used\.",
     "这个模型生成的声音长度由文字决定，所以不使用时长设置。"),
    # aigc.pipelines.fill: editing text with a masked language model
    (r"Write a passage first, with \[MASK\] where a word should be filled in\.", "请先写一段文字，在要填词的地方写 [MASK]。"),
    (r"The passage is (?P<n>[\d,]+) characters; the editor takes at most (?P<most>[\d,]+)\.",
     "这段文字有 {n} 个字符；编辑器最多接受 {most} 个。"),
    (r"Candidates per blank: choose between 1 and 20\.", "每个空的候选词数：请在 1 到 20 之间选择。"),
    (r"Mark a word to fill in: type \[MASK\] in its place \(or select words to rewrite\)\.",
     "请标出要填的词：在它的位置输入 [MASK]（或选中几个词把它们遮住）。"),
    (r"At most (?P<most>\d+) blanks at once; this passage has (?P<n>\d+)\.", "一次最多 {most} 个空；这段文字有 {n} 个。"),
    (r"Temperature: choose between 0 and 2\.", "温度：请在 0 到 2 之间选择。"),
    (r"There is no word to rewrite in this passage\.", "这段文字里没有可以改写的词。"),
    (r"Fill the blanks first \(or take out \[MASK\]\): a rewrite changes the words that are there\.",
     "请先填空（或删去 [MASK]）：改写只改动已有的词。"),
    (r"Select one or more words of the passage first, then blank them\.", "请先在段落里选中一个或几个词，再把它们遮住。"),
    (r"This model does not know (?P<n>\d+) of the characters \((?P<chars>.+)\); it reads them as unknown\.",
     "这个模型不认识其中 {n} 个字符（{chars}），会把它们当作未知字符。"),
    (r"Only the first (?P<n>\d+) words that are not locked were rewritten\.", "只改写了前 {n} 个未锁定的词。"),
]
_SENTENCES = [(re.compile(pattern), zh) for pattern, zh in SENTENCES]
# field values that are words too
_FIELD_WORDS = {"Steps": "训练步数", "Batch size": "批大小", "Sample every": "采样间隔", "Seed": "随机种子"}


def translate(message: str, lang: str) -> str:
    """A sentence of the library in the page's language (unknown sentences stay as they are)."""
    if lang != "zh":
        return message
    for pattern, zh in _SENTENCES:
        found = pattern.fullmatch(message)
        if found:
            return zh.format(**{k: _FIELD_WORDS.get(v, v) for k, v in found.groupdict().items()})
    return message


def refuse_upload(name: str, why: Exception | str, request=None) -> None:
    """A warning that the user's file `name` cannot be used and why, in the page's language; the
    file's name leads unless the sentence quotes it already."""
    lang, why = language(request), str(why)
    reason = translate(why, lang)
    gr.Warning(reason if f"'{name}'" in why else say(lang, "upload.refused", name=name, reason=reason))


def error(exc: Exception | str, request=None) -> gr.Error:
    """The gr.Error a page shows for `exc`, in the language of the page that asked."""
    return gr.Error(translate(str(exc), language(request)), print_exception=False)
