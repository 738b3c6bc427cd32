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
- only the static words of the page are translated. What an endpoint returns (notes such as
  "Seed 5 · 16 images in 0.3 s", the training status line, error messages, model cards) is the
  Python API's answer, the same for every client, and stays in English.

Names that read the same in both languages (Top-k, model ids, example prompts for models that
only know English) are written as plain strings, not keys.
"""

from __future__ import annotations

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
    "tab.train": ("Train", "训练"),
    "tab.models": ("Models", "模型"),

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

    # Image tab
    "image.model_info": ("A built-in model, or the Hub id of an unconditional diffusers pipeline.",
                         "内置模型，或 Hub 上某个无条件生成的 diffusers pipeline 的 ID。"),
    "image.scheduler": ("Scheduler", "调度器"),
    "image.scheduler_info": ("DDIM and DPM-Solver++ need 10 to 50 steps; DDPM needs hundreds.",
                             "DDIM 和 DPM-Solver++ 只需 10 到 50 步；DDPM 需要几百步。"),
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
    "cond.editor": ("Upload a picture, then paint over what should change", "上传一张图片，然后涂抹需要修改的地方"),
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

    # Train tab
    "train.off": ("Training is turned off on this server: you can watch runs and download their models.",
                  "这台服务器关闭了训练功能：你仍然可以查看训练任务并下载训练好的模型。"),
    "train.kind": ("Model kind", "模型类型"),
    "train.kind.gpt": ("GPT: text, one character at a time", "GPT：文本，逐字符生成"),
    "train.kind.dcgan": ("DCGAN: images", "DCGAN：图像"),
    "train.kind.vae": ("VAE: images", "VAE：图像"),
    "train.kind.diffusion": ("Diffusion (DDPM): images", "扩散模型（DDPM）：图像"),
    "train.kind.cgan": ("Conditional GAN: a digit for each label", "条件 GAN：按标签生成数字"),
    "train.kind.guided-diffusion": ("Conditional diffusion: labels, classifier-free guidance",
                                    "条件扩散模型：按标签生成，无分类器引导"),
    "train.kind.text2img": ("Text to image: captions of shapes", "文生图：根据描述画图形"),
    "train.kind.text2video": ("Text to video: captions of moving shapes", "文生视频：根据描述生成运动的图形"),
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
    "train.loss_plot": ("Loss by step (raw and smoothed; validation)", "各训练步的损失（原始值与平滑值；验证集）"),
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

I18N = gr.I18n(en={key: en for key, (en, _) in TEXTS.items()}, zh={key: zh for key, (_, zh) in TEXTS.items()})
i18n = I18N  # the name the tabs call: i18n("key")
