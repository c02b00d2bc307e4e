"""The fixed words of a report in English, Chinese and Korean: one catalogue, one key a phrase.

Numbers, run names, parameter names and metric keys are never translated; only the titles and
phrases around them are. A phrase may hold ``{placeholders}`` filled by :meth:`Messages.format`.

>>> Messages("zh")("results")
'效果'
>>> Messages("en").format("best_at", metric="val/AP50", value="58.88%", step=183)
'max val/AP50: 58.88% @ epoch 183'
"""

from __future__ import annotations

from typing import Final

from detlab.errors import ConfigError

__all__ = ["LANGUAGES", "Messages"]

LANGUAGES: Final = ("en", "zh", "ko")

# key: (en, zh, ko)
_CATALOGUE: Final[dict[str, tuple[str, str, str]]] = {
    "title": ("Experiment log: {project}", "实验记录：{project}", "실험 기록: {project}"),
    "generated": (
        "Written by detlab {version} from the store {store} on {time}.",
        "由 detlab {version} 根据存储 {store} 于 {time} 生成。",
        "detlab {version}이(가) 저장소 {store}에서 {time}에 작성했습니다.",
    ),
    "contents": ("Contents", "目录", "목차"),
    "summary": ("Summary", "总览", "요약"),
    "runs": ("Runs", "实验", "실험"),
    "analysis": ("Analysis", "分析", "분석"),
    "comparison": ("Comparison", "对比", "비교"),
    # summary table columns
    "col_id": ("ID", "ID", "번호"),
    "col_date": ("Date", "日期", "날짜"),
    "col_name": ("Name", "名称", "이름"),
    "col_status": ("Status", "状态", "상태"),
    "col_epochs": ("Epochs", "轮数", "에폭"),
    "col_final_loss": ("Final loss", "最终损失", "최종 손실"),
    "col_best": ("Best {metric}", "最佳 {metric}", "최고 {metric}"),
    "col_vs": ("vs {label}", "相对 {label}", "{label} 대비"),
    "col_score": ("Leaderboard", "榜单得分", "리더보드"),
    "col_fps": ("Inference fps", "推理 fps", "추론 fps"),
    "col_purpose": ("Purpose", "目的", "목적"),
    "col_conclusion": ("Conclusion", "结论", "결론"),
    # run section
    "date": ("Date", "日期", "날짜"),
    "status": ("Status", "状态", "상태"),
    "duration": ("Duration", "耗时", "소요 시간"),
    "parent": ("Derived from", "基于", "기반 실험"),
    "baselines": ("Baselines", "基准", "기준 실험"),
    "purpose": ("Purpose and method", "实验目的及方法", "실험 가설 및 방법"),
    "method": ("Method", "实验方法", "실험 방법"),
    "change_kind": ("Kind of change", "改进", "변경 종류"),
    "results": ("Results", "效果", "결과"),
    "conclusion": ("Conclusion", "结论", "결론"),
    "suggestions": ("Suggestions", "调参建议", "제안"),
    "notes": ("Notes", "备注", "메모"),
    "references": ("References", "参考资料", "참고 자료"),
    "significant_changes": (
        "Significant parameter changes (against {parent})",
        "显著参数变化（相对 {parent}）",
        "주요 파라미터 변경 ({parent} 대비)",
    ),
    "no_changes": ("none", "无", "없음"),
    "parameters": ("Parameters", "参数", "파라미터"),
    "restarts": ("Restarts", "流程", "재시작 기록"),
    "col_epoch": ("epoch", "epoch", "epoch"),
    "col_loaded_epoch": ("loaded epoch", "load_epoch", "불러온 epoch"),
    "col_seed": ("seed", "seed", "seed"),
    "col_reason": ("reason", "reason", "원인"),
    "col_detail": ("detail", "详情", "상세"),
    "normal_start": ("normal start", "normal start", "normal start"),
    "command": ("Command line", "命令行", "명령어"),
    "git_commit": ("Git commit", "Git 提交", "Git 커밋"),
    "dirty": ("uncommitted changes", "有未提交的修改", "커밋되지 않은 변경 있음"),
    "coco_summary": (
        "COCO evaluation at epoch {step}",
        "COCO 评估（epoch {step}）",
        "COCO 평가 (epoch {step})",
    ),
    "voc_summary": (
        "Pascal VOC evaluation at epoch {step}: mAP {map}",
        "Pascal VOC 评估（epoch {step}）：mAP {map}",
        "Pascal VOC 평가 (epoch {step}): mAP {map}",
    ),
    "per_class_ap": ("Per-class AP", "各类别 AP", "클래스별 AP"),
    "framework_summary": (
        "COCO evaluation as {tool} printed it ({where})",
        "{tool} 输出的 COCO 评估（{where}）",
        "{tool}이(가) 출력한 COCO 평가 ({where})",
    ),
    "framework_per_class": (
        "Per-class results as {tool} printed them ({where})",
        "{tool} 输出的各类别结果（{where}）",
        "{tool}이(가) 출력한 클래스별 결과 ({where})",
    ),
    "col_class": ("class", "类别", "클래스"),
    "col_num_gt": ("#GT", "#GT", "#GT"),
    "col_num_dt": ("#det", "#检测", "#검출"),
    "curves": ("Curves", "曲线", "곡선"),
    "submissions": ("Leaderboard submissions", "榜单提交", "리더보드 제출"),
    "col_board": ("board", "榜单", "리더보드"),
    "col_score_value": ("score", "得分", "점수"),
    "col_time": ("time", "时间", "시간"),
    "best_at": (
        "max {metric}: {value} @ epoch {step}",
        "max {metric}: {value} @ epoch {step}",
        "max {metric}: {value} @ epoch {step}",
    ),
    "min_at": (
        "min {metric}: {value} @ epoch {step}",
        "min {metric}: {value} @ epoch {step}",
        "min {metric}: {value} @ epoch {step}",
    ),
    "no_finite": (
        "{metric}: no finite value",
        "{metric}：没有有限值",
        "{metric}: 유한한 값 없음",
    ),
    "early_stop": (
        "EARLY STOP @ epoch {step}",
        "EARLY STOP @ epoch {step}",
        "EARLY STOP @ epoch {step}",
    ),
    "no_metrics": ("No metrics were logged.", "没有记录任何指标。", "기록된 지표가 없습니다."),
    "parent_missing": (
        "{parent} (not in the store: deleted or never recorded)",
        "{parent}（存储中不存在：已删除或从未记录）",
        "{parent} (저장소에 없음: 삭제되었거나 기록되지 않음)",
    ),
    "baseline_missing": (
        "[{label}] {baseline}: not in the store",
        "[{label}] {baseline}：存储中不存在",
        "[{label}] {baseline}: 저장소에 없음",
    ),
    "nan_note": (
        "{metric} was not finite at {count} epoch(s) ({steps}); those points are left out of the best value and the curve.",
        "{metric} 有 {count} 个 epoch 的值不是有限数（{steps}），最佳值和曲线已略去这些点。",
        "{metric} 값이 {count}개 epoch에서 유한하지 않았습니다 ({steps}). 최고값과 곡선에서 제외했습니다.",
    ),
    "plot_missing": (
        "Plot not drawn: Matplotlib is not installed (pip install 'detlab[plots]').",
        "未绘图：未安装 Matplotlib（pip install 'detlab[plots]'）。",
        "그림 없음: Matplotlib이 설치되지 않았습니다 (pip install 'detlab[plots]').",
    ),
    "figure_limit": (
        "Curves drawn for the {n} best runs of {total} only (max_run_figures; --max-figures on the command line).",
        "仅为 {total} 个实验中最好的 {n} 个绘制曲线（max_run_figures；命令行 --max-figures）。",
        "{total}개 실험 중 상위 {n}개만 곡선을 그렸습니다 (max_run_figures; 명령줄 --max-figures).",
    ),
    # analysis
    "dataset": ("Dataset {name}", "数据集 {name}", "데이터셋 {name}"),
    "dataset_overview": (
        "{images} images, {boxes} boxes, {classes} classes; {empty} images without boxes.",
        "{images} 张图像，{boxes} 个标注框，{classes} 个类别；{empty} 张图像没有标注。",
        "이미지 {images}장, 박스 {boxes}개, 클래스 {classes}개; 박스 없는 이미지 {empty}장.",
    ),
    "split_distribution": (
        "Split {name} ({strategy}): boxes per class",
        "数据集划分 {name}（{strategy}）：各类别标注数",
        "데이터 분할 {name} ({strategy}): 클래스별 박스 수",
    ),
    "split_deviation": (
        "Largest deviation of a class's share from the full set: {pp} percentage points.",
        "各类别占比与原始数据集的最大偏差：{pp} 个百分点。",
        "전체 데이터 대비 클래스 비율의 최대 편차: {pp}%p.",
    ),
    "image_sizes": ("Image sizes", "图像尺寸分布", "이미지 크기 분포"),
    "col_width": ("width", "宽", "너비"),
    "col_height": ("height", "高", "높이"),
    "col_images": ("images", "图像数", "이미지 수"),
    "col_share": ("share", "占比", "비율"),
    "col_count": ("boxes", "标注数", "박스 수"),
    "col_area_median": ("median area (px²)", "面积中位数 (px²)", "면적 중앙값 (px²)"),
    "col_aspect_median": ("median w/h", "宽高比中位数", "가로/세로 중앙값"),
    "per_class_attributes": (
        "Per-class AP against class attributes ({run})",
        "各类别 AP 与类别属性（{run}）",
        "클래스별 AP와 클래스 속성 ({run})",
    ),
    "error_breakdown": (
        "Error breakdown ({run}, TIDE)",
        "错误分析（{run}，TIDE）",
        "오류 분석 ({run}, TIDE)",
    ),
    "col_error": ("error type", "错误类型", "오류 유형"),
    "col_dap": ("AP recovered (points)", "修正后 AP 提升（百分点）", "고치면 오르는 AP (%p)"),
    "col_errors": ("count", "数量", "개수"),
    # comparison
    "compare_params": ("Parameters that differ", "不同的参数", "다른 파라미터"),
    "compare_metrics": ("Best values", "最佳值", "최고값"),
    "col_parameter": ("parameter", "参数", "파라미터"),
    "col_metric": ("metric", "指标", "지표"),
    "delta_vs_first": ("(points against {run})", "（相对 {run} 的百分点）", "({run} 대비 %p)"),
    "overlay": ("{metric}, runs overlaid", "{metric}，多个实验叠加", "{metric}, 실험 겹쳐 보기"),
    "nothing": ("No runs match.", "没有符合条件的实验。", "조건에 맞는 실험이 없습니다."),
    "dash": ("-", "-", "-"),
}


class Messages:
    """The catalogue in one language: ``messages("results")``, ``messages.format(key, **kw)``."""

    def __init__(self, lang: str = "en") -> None:
        if lang not in LANGUAGES:
            raise ConfigError(f"--lang {lang!r}: use one of {', '.join(LANGUAGES)}")
        self.lang = lang
        self._column = LANGUAGES.index(lang)

    def __call__(self, key: str) -> str:
        return _CATALOGUE[key][self._column]

    def format(self, key: str, **values: object) -> str:
        return self(key).format(**values)
