"""vidhand dashboard: drop in a clip, get a verdict, see where the hands break.

Run:
    streamlit run app.py

Environment:
    VIDHAND_CLIPS_DIR      server folder whose clips can be picked (only files inside it)
    VIDHAND_CACHE_DIR      where reports and landmarks are cached (default ~/.cache/vidhand)
    VIDHAND_MAX_UPLOAD_MB  per-file upload limit (also capped by server.maxUploadSize)

This page only lays out widgets: analysis, checks and exports are library calls
(``vidhand.pipeline``, ``vidhand.export``, ``vidhand.render``) and the UI-agnostic rules
live in ``vidhand.dashboard``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from vidhand import dashboard as dash
from vidhand.export import EXPORTERS, SUFFIXES, export_report
from vidhand.pipeline import AnalysisOptions
from vidhand.report import PROFILES, Report
from vidhand.timeline import hand_series

st.set_page_config(page_title="vidhand · hand consistency", page_icon=":material/back_hand:",
                   layout="wide")

VERDICT_STYLE = {"pass": ("#1b873f", "PASS", "No hand defect found"),
                 "warn": ("#c77700", "WARN", "Possible hand defects: review the events"),
                 "fail": ("#c62828", "FAIL", "Hand defects found")}
MAX_TIMELINE_ROWS = 12
LEVEL_COLOURS = {"fail": "#e53935", "warn": "#fb8c00", "info": "#90a4ae"}
METRIC_COLOURS = {"digits in pixels": "#1565c0", "digits from landmarks": "#6d4c41",
                  "proportion drift": "#8e24aa", "finger coverage lost": "#ef6c00",
                  "confidence": "#26a69a"}

st.markdown("""
<style>
.block-container {padding-top: 2.2rem; padding-bottom: 2rem;}
.vh-verdict {border-radius: 10px; padding: 14px 18px; color: white; line-height: 1.25;}
.vh-verdict .big {font-size: 2.0rem; font-weight: 800; letter-spacing: .06em;}
.vh-verdict .sub {font-size: .92rem; opacity: .92;}
.vh-chip {display: inline-block; padding: 2px 10px; margin: 2px 6px 2px 0; border-radius: 999px;
          background: #eef1f5; font-size: .85rem; color: #263238;}
.vh-chip b {color: #0d47a1;}
.vh-badge {display: inline-block; padding: 1px 9px; border-radius: 6px; color: white;
           font-weight: 700; font-size: .8rem; letter-spacing: .05em;}
.vh-legend {font-size: .8rem; color: #455a64; margin: -4px 0 2px 0;}
.vh-key {margin-right: 14px; white-space: nowrap;}
.vh-key i {display: inline-block; width: 14px; height: 4px; margin: 0 5px 3px 0;
           vertical-align: middle; border-radius: 2px;}
.vh-muted {color: #607d8b; font-size: .86rem;}
</style>
""", unsafe_allow_html=True)


@st.cache_resource
def get_runner() -> dash.JobRunner:
    """One job runner (and worker thread) per server process, shared by all sessions."""
    return dash.JobRunner(dash.ResultCache())


@st.cache_resource(max_entries=8)
def hand_data(landmarks_file: str, report_key: str, _report: Report) -> tuple[list, dict]:
    """Tracked hand frames and per-hand series of a report (replays its landmark file)."""
    from vidhand.pipeline import tracked_hand_frames

    frames = tracked_hand_frames(_report)
    return frames, hand_series(_report, frames)


@st.cache_data(max_entries=64, show_spinner=False)
def clip_sha(path: str, size: int, mtime: float) -> str:
    """sha256 of a server clip (cached by path, size and mtime)."""
    from vidhand.pipeline import file_sha256

    return file_sha256(path)


def verdict_badge(verdict: str) -> str:
    colour, text, _ = VERDICT_STYLE.get(verdict, ("#546e7a", verdict.upper(), ""))
    return f'<span class="vh-badge" style="background:{colour}">{text}</span>'


# --- sidebar: input and settings ----------------------------------------------------------


def sidebar_settings() -> AnalysisOptions:
    st.sidebar.markdown("### Settings")
    profile = st.sidebar.segmented_control(
        "Profile", list(PROFILES), default="balanced", key="profile",
        help="How severe an event must be to warn or fail the clip. "
             + "; ".join(f"{p.name}: warn ≥ {p.warn_at}, fail ≥ {p.fail_at}"
                         for p in PROFILES.values())) or "balanced"
    max_gap_s = st.sidebar.slider("Max gap (s)", 0.0, 2.0, 0.3, 0.05, key="max_gap_s",
                                  help="How long a hand may go undetected and keep its "
                                       "identity.")
    min_track = st.sidebar.number_input("Min track length (frames)", 1, 60, 3,
                                        key="min_track_frames",
                                        help="Hands seen in fewer frames are detector noise.")
    check_options: dict[str, Any] = {}
    specs = dash.check_option_specs()
    if specs:
        with st.sidebar.expander("Check thresholds", expanded=False):
            for name, default in specs.items():
                label = name.replace("_", " ")
                if isinstance(default, int):
                    value = st.number_input(label, value=default, step=1, key=f"opt::{name}")
                else:
                    value = st.number_input(label, value=float(default), format="%.4g",
                                            key=f"opt::{name}")
                if value != default:
                    check_options[name] = value
    st.sidebar.caption("Changing these re-runs only the checks, over the cached landmarks.")
    with st.sidebar.expander("Detection (re-runs MediaPipe)", expanded=False):
        max_hands = st.number_input("Max hands per frame", 1, 6, 2, key="max_hands")
        side = st.selectbox("Analysis resolution", ["source", "1280", "960", "640"],
                            key="max_side", help="Downscale frames before detection "
                                                 "(faster on 1080p/4K).")
    return AnalysisOptions(profile=profile, max_gap_s=float(max_gap_s),
                           min_track_frames=int(min_track), check_options=check_options,
                           max_hands=int(max_hands),
                           max_side=None if side == "source" else int(side))


def sidebar_inputs(runner: dash.JobRunner) -> tuple[list[tuple[str, Path, str]], list[str]]:
    """Return ``([(label, path, sha256)], [error messages])`` of the chosen clips."""
    st.sidebar.markdown("## :material/back_hand: vidhand")
    st.sidebar.caption("Temporal hand-consistency checker for AI-generated video")
    folder = dash.clips_dir()
    sources = ["Upload", "Server folder"] if folder else ["Upload"]
    source = (st.sidebar.radio("Clip source", sources, horizontal=True, key="source")
              if len(sources) > 1 else "Upload")
    chosen: list[tuple[str, Path, str]] = []
    errors: list[str] = []
    if source == "Upload":
        limit = dash.max_upload_mb(st.get_option("server.maxUploadSize"))
        files = st.sidebar.file_uploader(
            "Video clips", type=[s[1:] for s in dash.VIDEO_SUFFIXES],
            accept_multiple_files=True, key="uploads", max_upload_size=limit,
            help=f"mp4, mov, webm, gif or avi; up to {limit} MB each")
        st.sidebar.caption(f"Limit {limit} MB per file · several files give a verdict table")
        seen: dict[str, Any] = st.session_state.setdefault("_uploads", {})
        for f in files or []:
            if f.file_id not in seen:
                try:
                    dash.check_upload(f.name, f.size, limit)
                    path, sha = runner.cache.store_upload(f.name, f.getvalue())
                    dash.probe_video(path, f.name)
                    seen[f.file_id] = (f.name, path, sha)
                except dash.InputRejected as exc:
                    seen[f.file_id] = str(exc)
            entry = seen[f.file_id]
            if isinstance(entry, str):
                errors.append(entry)
            else:
                chosen.append(entry)
    else:
        assert folder is not None
        names = dash.list_clips(folder)
        picked = st.sidebar.multiselect(f"Clips in {folder.name}/", names, key="server_clips",
                                        placeholder="Choose one or more clips")
        st.sidebar.caption(f"{len(names)} clips in `{folder}`")
        for name in picked:
            try:
                path = dash.resolve_clip(folder, name)
                stat = path.stat()
                chosen.append((name, path, clip_sha(str(path), stat.st_size, stat.st_mtime)))
            except (dash.InputRejected, OSError) as exc:
                errors.append(str(exc))
    return chosen, errors


# --- progress ---------------------------------------------------------------------------


@st.fragment(run_every=0.5)
def progress_panel(keys: list[str]) -> None:
    runner = get_runner()
    jobs = [j for j in (runner.get(k) for k in keys) if j is not None]
    for job in jobs:
        if job.finished:
            continue
        if job.state == "queued":
            st.progress(0.0, text=f"**{job.label}** · queued")
            continue
        total = job.total or "?"
        st.progress(job.fraction, text=(
            f"**{job.label}** · frame {job.done}/{total} · {job.fps:.1f} fps · "
            f"ETA {dash.format_eta(job.eta_s)}"))
    if all(j.finished for j in jobs):
        st.rerun()


# --- results ----------------------------------------------------------------------------


def batch_table(entries: list[tuple[str, dash.Job]]) -> None:
    st.markdown("#### Clips")
    head = st.columns([5, 1.3, 1.2, 1.2, 1.2, 1.3])
    for col, text in zip(head, ["clip", "verdict", "score", "events", "hands", ""],
                         strict=True):
        col.markdown(f'<span class="vh-muted">{text}</span>', unsafe_allow_html=True)
    for n, (label, job) in enumerate(entries):
        c = st.columns([5, 1.3, 1.2, 1.2, 1.2, 1.3], vertical_alignment="center")
        c[0].markdown(f"**{label}**")
        if job.state == "done" and job.report is not None:
            s = job.report.summary
            c[1].markdown(verdict_badge(s.verdict), unsafe_allow_html=True)
            c[2].markdown(f"{s.score:.2f}")
            c[3].markdown(str(len(job.report.events)))
            c[4].markdown(str(len(job.report.tracks)))
            opened = st.session_state.get("opened") == label
            c[5].button("Opened" if opened else "Open", key=f"open::{n}::{label}",
                        disabled=opened, on_click=st.session_state.__setitem__,
                        args=("opened", label), width="stretch")
        elif job.state == "error":
            c[1].markdown(verdict_badge("error"), unsafe_allow_html=True)
            c[2].caption(job.error[:80])
        else:
            c[1].caption(f"{job.fraction:.0%}")


def verdict_block(report: Report, job: dash.Job) -> None:
    s = report.summary
    colour, text, sub = VERDICT_STYLE.get(s.verdict, ("#546e7a", s.verdict, ""))
    v = report.video
    cols = st.columns([2.2, 1, 1, 1, 1], vertical_alignment="center")
    cols[0].markdown(
        f'<div class="vh-verdict" style="background:{colour}" data-testid="vh-verdict">'
        f'<div class="big">{text}</div><div class="sub">{sub} · profile '
        f'{report.settings.get("profile", "balanced")}</div></div>', unsafe_allow_html=True)
    cols[1].metric("Score", f"{s.score:.2f}", help="Product of (1 - severity) over events")
    cols[2].metric("Events", len(report.events))
    cols[3].metric("Hands tracked", len(report.tracks))
    pct = s.frames_with_hands / v.frame_count if v.frame_count else 0
    cols[4].metric("Frames with hands", f"{pct:.0%}",
                   help=f"{s.frames_with_hands} of {v.frame_count} frames")
    chips = "".join(f'<span class="vh-chip">{t.replace("_", " ")} <b>{n}</b></span>'
                    for t, n in s.event_counts.items())
    how = {"cache": "from cache", "checks": "checks re-run on cached landmarks",
           "detect": f"analysed in {job.elapsed_s:.1f} s"}.get(job.how, "")
    st.markdown(
        f'{chips or "<span class=vh-chip>no events</span>"} <span class="vh-muted">&nbsp;'
        f'{v.width}x{v.height} · {v.fps:.3g} fps · {v.duration_s:.1f} s · '
        f'{v.frame_count} frames · {how}</span>', unsafe_allow_html=True)
    if s.frames_with_hands == 0:
        st.warning("**No hands found in this clip.** MediaPipe detected no hand in any frame, "
                   "so nothing could be judged. Hands that are very small, blurred or "
                   "heavily occluded are not detected; this is not a verdict on the hands.")
    for note in s.notes:
        st.info(note, icon=":material/info:")
    if v.decode_error:
        st.warning(f"The video stopped decoding early: {v.decode_error}")


def timeline_charts(report: Report, series: dict, cursor_s: float,
                    selected_event: int | None) -> list[alt.LayerChart]:
    """One layered chart per tracked hand (each stretches to the page width)."""
    rows = pd.DataFrame(dash.timeline_rows(report, series))
    if rows.empty:
        return []
    bands = pd.DataFrame(dash.band_rows(report, series),
                         columns=["hand", "track", "event", "type", "start", "end", "frames",
                                  "severity", "level", "message"])
    domain = [*METRIC_COLOURS, *LEVEL_COLOURS]
    colour_scale = alt.Scale(domain=domain,
                             range=[*METRIC_COLOURS.values(), *LEVEL_COLOURS.values()])
    duration = max(report.video.duration_s, 1e-3)
    x_scale = alt.Scale(domain=[0, duration], nice=False)
    charts = []
    tids = list(series)
    # Every row is built the same way (legend drawn in HTML above, x labels on each row):
    # layered charts with a legend or axis title of their own get squeezed by autosize.
    colour = alt.Color("key:N", scale=colour_scale, legend=None)
    x_axis = alt.Axis(title=None, tickCount=12, grid=True, gridColor="#eceff1",
                      labelFontSize=10)
    for tid in tids:
        d = rows[rows.track == tid].rename(columns={"metric": "key"})
        b = bands[bands.track == tid].rename(columns={"level": "key"})
        band = alt.Chart(b).mark_rect(opacity=0.3).encode(
            x=alt.X("start:Q", scale=x_scale, axis=x_axis), x2="end:Q", color=colour,
            tooltip=["event:Q", "type:N", "frames:N", "severity:Q", "message:N"])
        sel = b[b.event == selected_event] if selected_event is not None else b.iloc[0:0]
        sel_band = alt.Chart(sel).mark_rect(fillOpacity=0, stroke="#212121",
                                            strokeWidth=1.5).encode(
            x=alt.X("start:Q", scale=x_scale, axis=x_axis), x2="end:Q")
        digits = alt.Chart(d[d.axis == "digits"]).mark_line(
            interpolate="step-after", strokeWidth=2).encode(
            x=alt.X("t:Q", scale=x_scale, axis=x_axis),
            y=alt.Y("value:Q", scale=alt.Scale(domain=[0, 5.6]),
                    axis=alt.Axis(values=[0, 1, 2, 3, 4, 5], title="digits", titleFontSize=10,
                                  gridColor="#eceff1")),
            color=colour, detail="segment:N",
            strokeDash=alt.StrokeDash("key:N", scale=alt.Scale(
                domain=["digits in pixels", "digits from landmarks"], range=[[1, 0], [5, 3]]),
                legend=None),
            tooltip=["frame:Q", alt.Tooltip("t:Q", format=".2f"), "key:N", "value:Q"])
        ratio = alt.Chart(d[d.axis == "ratio"]).mark_line(strokeWidth=1.2, opacity=0.75).encode(
            x=alt.X("t:Q", scale=x_scale, axis=x_axis),
            y=alt.Y("value:Q", scale=alt.Scale(domain=[0, 1], clamp=True),
                    axis=alt.Axis(orient="right", title="drift/conf", values=[0, 0.5, 1],
                                  titleFontSize=10, grid=False)),
            color=colour, detail="segment:N",
            tooltip=["frame:Q", alt.Tooltip("t:Q", format=".2f"), "key:N",
                     alt.Tooltip("value:Q", format=".3f")])
        cursor = alt.Chart(pd.DataFrame({"t": [cursor_s]})).mark_rule(
            color="#212121", strokeWidth=1.5, strokeDash=[4, 2]).encode(
            x=alt.X("t:Q", scale=x_scale, axis=x_axis))
        label = d.hand.iloc[0]
        charts.append(alt.layer(band, sel_band, digits, ratio, cursor)
                      .resolve_scale(y="independent")
                      .properties(height=112,
                                  title=alt.TitleParams(label, anchor="start", fontSize=12,
                                                        fontWeight="bold", offset=2)))
    return charts


SEEK_JS = """<script>
(() => {
  // st.video only takes whole seconds: nudge the player to the exact frame time once
  // it has metadata (and again if Streamlit's own loadedmetadata handler rounds it).
  const sel = ".st-key-%(key)s video", t = %(t).4f, deadline = Date.now() + 8000;
  let settled = 0;
  const timer = setInterval(() => {
    const v = document.querySelector(sel);
    if (Date.now() > deadline) { clearInterval(timer); return; }
    if (!v || v.readyState < 1) return;
    v.dataset.vhStart = String(t);
    if (v.paused && Math.abs(v.currentTime - t) > 0.02) { v.currentTime = t; settled = 0; }
    else if (++settled > 5 || !v.paused) clearInterval(timer);
  }, 100);
})();
</script>"""


def player(report: Report, job: dash.Job, start_s: float, height_px: int) -> None:
    """The source video, starting at ``start_s`` (re-seeks on every new selection)."""
    path = Path(report.video.path)
    v = report.video
    width = max(160, round(height_px * v.width / max(v.height, 1)))
    if path.suffix.lower() == ".gif":
        st.image(str(path), caption="GIF: plays without seeking", width=width)
        return
    # A container keyed by the start time gives each selection a new <video> element,
    # so the browser seeks again even to a time it was at before.
    key = f"player-{job.sha256[:12]}-{round(start_s * 1000)}"
    with st.container(key=key):
        st.video(str(path), start_time=int(start_s), width=width)
    st.html(SEEK_JS % {"key": key, "t": start_s}, unsafe_allow_javascript=True)


def inspector(report: Report, job: dash.Job, hand_frames: list, series: dict) -> None:
    targets = dash.inspect_targets(report)
    key = f"inspect::{job.sha256[:24]}"
    if not targets:
        st.info("Nothing to inspect: no hand was tracked in this clip.")
        return
    if st.session_state.get(key) not in targets:
        st.session_state[key] = next(iter(targets))
    current = targets[st.session_state[key]]
    fps = max(report.video.fps, 1e-6)
    cursor_s = current.start_s if current.kind == "event" else current.focus_frame / fps

    st.markdown("#### Timeline")
    st.caption("One row per tracked hand: digits seen in the pixels (solid) vs. expected "
               "from the landmarks (dashed), proportion drift, finger coverage lost and "
               "detector confidence (right axis); events as coloured bands; the dashed rule "
               "is the inspected frame.")
    shown = series
    if len(series) > MAX_TIMELINE_ROWS and not st.toggle(
            f"Show all {len(series)} hands", key="all_hands",
            help="By default the timeline shows the hands with events and the inspected one"):
        flagged = {ev.track_id for ev in report.events} | {current.track_id}
        keep = [t for t in series if t in flagged][:MAX_TIMELINE_ROWS]
        shown = {t: series[t] for t in (keep or list(series)[:MAX_TIMELINE_ROWS])}
    charts = timeline_charts(report, shown, cursor_s,
                             current.event.event_id if current.event else None)
    legend = "".join(
        f'<span class="vh-key"><i style="background:{c}"></i>{k}</span>'
        for k, c in [*METRIC_COLOURS.items(), *((f"{lv} event", LEVEL_COLOURS[lv])
                                               for lv in LEVEL_COLOURS)])
    st.markdown(f'<div class="vh-legend">{legend}<span class="vh-key">time axis in seconds'
                f'</span></div>', unsafe_allow_html=True)
    with st.container(key="timeline", gap=None):
        for n, chart in enumerate(charts):
            st.altair_chart(chart, width="stretch", key=f"timeline::{n}")

    st.markdown("#### Inspector")
    if report.events:
        df = pd.DataFrame(dash.event_rows(report))
        table_key = f"events::{job.sha256[:24]}"

        def on_pick() -> None:
            rows = st.session_state[table_key].selection.rows
            if rows:
                st.session_state[key] = f"e{int(df.iloc[rows[0]]['#'])}"

        st.dataframe(df, hide_index=True, key=table_key, on_select=on_pick,
                     selection_mode="single-row", height=min(38 + 35 * len(df), 248),
                     column_config={
                         "#": st.column_config.NumberColumn("#", width=40),
                         "severity": st.column_config.ProgressColumn(
                             "severity", min_value=0.0, max_value=1.0, format="%.2f",
                             width="small"),
                         "message": st.column_config.TextColumn("message", width="large"),
                     })
    else:
        st.success("No events: every tracked hand stayed consistent. Pick a hand below "
                   "to review it.")
    with st.container(key="inspector"):
        info, media = st.columns([4, 8], gap="medium")
        with info:
            st.selectbox("Inspect", list(targets), key=key,
                         format_func=lambda k: dash.target_label(report, k, targets[k]))
            if current.event is not None:
                ev = current.event
                level = dash.severity_level(ev.severity, str(report.settings.get("profile")))
                st.markdown(
                    f'<span class="vh-badge" style="background:{LEVEL_COLOURS[level]}">'
                    f'{level.upper()}</span> &nbsp;**{ev.type.replace("_", " ")}** · hand '
                    f'{ev.track_id if ev.track_id is not None else "-"} · severity '
                    f'{ev.severity:.2f}', unsafe_allow_html=True)
                st.write(ev.message)
                st.caption(f"frames {ev.start_frame}-{ev.end_frame} · "
                           f"{ev.start_s:.2f}-{ev.end_s:.2f} s")
                ev_rows = dash.evidence_rows(ev)
                if ev_rows:
                    st.dataframe(pd.DataFrame(ev_rows), hide_index=True, width="stretch")
            else:
                track = next(t for t in report.tracks if t.track_id == current.track_id)
                st.markdown(f"**hand {track.track_id}** ({track.handedness}) · seen in "
                            f"{track.frames_observed} frames between frame "
                            f"{track.first_frame} and {track.last_frame}")
        with media:
            pics = dash.inspector_pictures(report, hand_frames, current, report.video.path)
            pcol, fcol = st.columns(2, gap="small")
            with pcol:
                player(report, job, cursor_s, 360)
                st.caption(f"Player at {cursor_s:.2f} s (frame {current.focus_frame})")
            if pics["frame"] is not None:
                idx, img = pics["frame"]
                h, w = img.shape[:2]
                fcol.image(img, width=max(160, round(360 * w / max(h, 1))))
                fcol.caption(f"Frame {idx} with the landmarks as detected")
            ccols = st.columns(3, gap="small")
            for col, (label, idx, img) in zip(ccols, pics["crops"], strict=False):
                col.image(img, width="stretch")
                col.caption(f"{label} · frame {idx}")


def exports(report: Report, job: dash.Job, runner: dash.JobRunner, label: str) -> None:
    st.markdown("#### Export")
    stem = Path(label).stem
    cols = st.columns(5)
    cols[0].download_button("Report JSON", report.to_json(), file_name=f"{stem}.vidhand.json",
                            mime="application/json", on_click="ignore",
                            icon=":material/description:", width="stretch")

    def exported(fmt: str) -> bytes:
        with tempfile.TemporaryDirectory() as tmp:
            return export_report(report, fmt, path=Path(tmp) / f"out{SUFFIXES[fmt]}")\
                .read_bytes()

    for i, fmt in enumerate(EXPORTERS, start=1):
        cols[i % 5].download_button(fmt, lambda f=fmt: exported(f),
                                    file_name=f"{stem}{SUFFIXES[fmt]}", on_click="ignore",
                                    key=f"dl::{fmt}", width="stretch")
    out = Path(report.landmarks_file or ".").parent / f"preview-{dash.checks_key(job.options)}.mp4"
    pkey = f"preview::{out}"
    pjob = runner.get(pkey)
    c = st.columns([2, 5], vertical_alignment="center")
    if out.is_file():
        c[0].download_button("Annotated preview (mp4)", out.read_bytes,
                             file_name=f"{stem}.preview.mp4", mime="video/mp4",
                             on_click="ignore", icon=":material/movie:", type="primary",
                             width="stretch")
        c[1].caption("Skeletons, event outlines and a per-hand timeline strip under the "
                     "picture.")
    elif pjob is not None and not pjob.finished:
        with c[1]:
            progress_panel([pkey])
    else:
        if c[0].button("Render annotated preview", icon=":material/movie:", width="stretch"):
            from vidhand.render import render_preview

            runner.submit_task(pkey, f"preview of {label}",
                               lambda progress: render_preview(report, out, progress=progress))
            st.rerun()
        if pjob is not None and pjob.state == "error":
            c[1].error(f"Preview failed: {pjob.error}")


def landing() -> None:
    st.markdown("## :material/back_hand: vidhand")
    st.markdown("##### Find where the hands break in AI-generated video")
    st.markdown(
        "Drop one or more clips in the sidebar (or pick them from the server folder). "
        "vidhand tracks every hand with MediaPipe and checks it over time: **finger "
        "counts** that change without a reason, **proportions** that drift, hands that "
        "merge or vanish. You get a pass / warn / fail verdict, a per-hand drift timeline, "
        "and each event with the frame, crops and evidence to prove it.")
    st.caption("Results are cached by file hash and settings: opening a clip again is "
               "instant, and changing the profile or thresholds re-runs only the checks.")


def main() -> None:
    runner = get_runner()
    chosen, errors = sidebar_inputs(runner)
    opts = sidebar_settings()
    st.sidebar.caption(f"Cache: `{runner.cache.root}`")
    for msg in errors:
        st.error(msg, icon=":material/block:")
    if not chosen:
        if not errors:
            landing()
        return
    # One job per file content and setting; two names for the same bytes share it.
    entries = [(label, runner.submit(path, label=label, sha256=sha, options=opts))
               for label, path, sha in chosen]
    jobs = list({j.key: j for _, j in entries}.values())
    pending = [j.key for j in jobs if not j.finished]
    if pending:
        st.markdown("#### Analysing")
        progress_panel(pending)
    for label, job in entries:
        if job.state == "error":
            st.error(f"**{label}**: {job.error}", icon=":material/block:")
    done = [(label, j) for label, j in entries if j.state == "done" and j.report is not None]
    if len(entries) > 1:
        batch_table(entries)
    if not done:
        return
    # Settings changes create new jobs; the open clip is remembered by its name.
    opened = st.session_state.get("opened")
    label, job = next(((lb, j) for lb, j in done if lb == opened), done[0])
    st.session_state["opened"] = label
    report = job.report
    assert report is not None
    if len(entries) > 1:
        st.divider()
    st.markdown(f"### {label}")
    verdict_block(report, job)
    if not report.tracks:
        exports(report, job, runner, label)
        return
    hand_frames, series = hand_data(report.landmarks_file or "", job.key, report)
    inspector(report, job, hand_frames, series)
    st.divider()
    exports(report, job, runner, label)


main()
