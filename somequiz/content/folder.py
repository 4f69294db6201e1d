"""Loading a content folder (catalogue, course, scenarios) and validating it as a whole."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from somequiz.content.checks import Reporter, check_scenario, check_translations
from somequiz.content.itemwriting import check_items, check_pasted
from somequiz.content.loader import SAY, Problem, SourceMap, did_you_mean, load_model
from somequiz.content.models import Catalogue, Course, Scenario
from somequiz.errors import ContentError

CATALOGUE_FILE = "guideline.yaml"
COURSE_FILE = "course.yaml"
YAML_SUFFIXES = {".yaml", ".yml"}


@dataclass
class Content:
    """Everything a course needs, loaded and checked."""

    catalogue: Catalogue
    course: Course
    scenarios: dict[str, Scenario]
    folder: Path
    problems: list[Problem] = field(default_factory=list)
    # Course scenarios left out of ``course`` because their files have errors (studio only).
    left_out: list[str] = field(default_factory=list)
    # Derived values (content hashes) computed once per loaded content (somequiz.content.hashing).
    memo: dict[str, str] = field(default_factory=dict, init=False, compare=False, repr=False)

    def course_scenarios(self) -> list[Scenario]:
        """The course's scenarios in course order."""
        return [self.scenarios[sid] for sid in self.course.scenarios]


def scenario_files(folder: Path) -> list[Path]:
    """Scenario files of a content folder (everything YAML but the catalogue and the course)."""
    return sorted(
        p
        for p in folder.iterdir()
        if p.suffix in YAML_SUFFIXES and p.name not in {CATALOGUE_FILE, COURSE_FILE} and p.is_file()
    )


def _load_catalogue(folder: Path) -> tuple[Catalogue | None, list[Problem]]:
    path = folder / CATALOGUE_FILE
    if not path.is_file():
        return None, [Problem(path, 1, 1, SAY("v_no_catalogue"))]
    catalogue, source, problems = load_model(path, Catalogue)
    if catalogue is not None and source is not None:
        ids = Counter(rule.id for _, rule in catalogue.rules())
        report = Reporter(path, source)
        for i, section in enumerate(catalogue.sections):
            for j, rule in enumerate(section.rules):
                if ids[rule.id] > 1:
                    report.error(
                        ("sections", i, "rules", j, "id"), SAY("v_rule_twice", rule=rule.id)
                    )
        check_translations(report, catalogue, [x for x in catalogue.languages if x != "fi"])
        check_pasted(report, catalogue)
        problems += report.problems
    return catalogue, problems


def load_scenario(
    path: Path, rule_ids: set[str] | None
) -> tuple[Scenario | None, SourceMap | None, list[Problem]]:
    """One scenario file, schema- and graph-checked."""
    scenario, source, problems = load_model(path, Scenario)
    if scenario is not None and source is not None:
        problems += check_scenario(path, scenario, source, rule_ids)
        if not _has_errors(problems):
            problems += check_items(path, scenario, source)
    return scenario, source, problems


def _has_errors(problems: list[Problem]) -> bool:
    return any(p.level == "error" for p in problems)


@dataclass
class _Scenarios:
    """The scenario files of a folder: the sound ones by id, and the ids of the faulty ones."""

    sound: dict[str, Scenario] = field(default_factory=dict)
    # A faulty file is reported once, in itself; the course must not call it missing too.
    faulty: set[str] = field(default_factory=set)
    problems: list[Problem] = field(default_factory=list)


def _load_scenarios(folder: Path, rule_ids: set[str] | None) -> _Scenarios:
    found = _Scenarios()
    first_seen: dict[str, Path] = {}
    for path in scenario_files(folder):
        scenario, source, problems = load_scenario(path, rule_ids)
        found.problems += problems
        if scenario is None or source is None:
            found.faulty.add(path.stem)
            continue
        if scenario.id in first_seen:
            message = SAY("v_scenario_twice", id=scenario.id, file=first_seen[scenario.id].name)
            found.problems.append(Problem(path, *source.position(("id",)), message))
            continue
        first_seen[scenario.id] = path
        if _has_errors(problems):
            found.faulty.add(scenario.id)
        else:
            found.sound[scenario.id] = scenario
    return found


def _load_course(folder: Path, scenarios: _Scenarios) -> tuple[Course | None, list[Problem]]:
    path = folder / COURSE_FILE
    if not path.is_file():
        return None, [Problem(path, 1, 1, SAY("v_no_course"))]
    course, source, problems = load_model(path, Course)
    if course is None or source is None:
        return None, problems
    report = Reporter(path, source)
    known = set(scenarios.sound) | scenarios.faulty
    for i, sid in enumerate(course.scenarios):
        if sid not in known:
            report.error(
                ("scenarios", i), SAY("v_scenario_not_found", id=sid) + did_you_mean(sid, known)
            )
    for i, (sid, count) in enumerate(Counter(course.scenarios).items()):
        if count > 1:
            report.error(("scenarios", i), SAY("v_scenario_on_course_twice", id=sid))
    check_translations(report, course, [x for x in course.languages if x != "fi"])
    check_pasted(report, course)
    return course, problems + report.problems


def _load_folder(folder: Path) -> tuple[Content | None, list[Problem]]:
    """Every file of ``folder`` checked; Content (without the faulty scenarios) when it can be."""
    catalogue, problems = _load_catalogue(folder)
    rule_ids = {r.id for _, r in catalogue.rules()} if catalogue else None
    scenarios = _load_scenarios(folder, rule_ids)
    course, found = _load_course(folder, scenarios)
    problems = sorted(problems + scenarios.problems + found)
    if catalogue is None or course is None:
        return None, problems
    shown = [sid for sid in course.scenarios if sid in scenarios.sound]
    left_out = [sid for sid in course.scenarios if sid not in scenarios.sound]
    usable = course.model_copy(update={"scenarios": shown})
    return Content(catalogue, usable, scenarios.sound, folder, problems, left_out), problems


def check_folder(folder: Path) -> tuple[Content | None, list[Problem]]:
    """Load and check every file of ``folder``; Content is None when errors prevent a course."""
    content, problems = _load_folder(folder)
    return (None if _has_errors(problems) else content), problems


def usable_content(folder: Path) -> tuple[Content | None, list[Problem]]:
    """Like :func:`check_folder`, but with errors the Content holds the scenarios without any.

    For the trainer studio: it shows what it can while a file is being mended. None when the
    guideline or the course file itself is unusable.
    """
    return _load_folder(folder)


def load_content(folder: Path) -> Content:
    """The course content of ``folder``; raises ContentError with the first problems."""
    content, problems = check_folder(folder)
    if content is None:
        errors = [str(p) for p in problems if p.level == "error"][:5]
        raise ContentError(SAY("v_content_has_errors") + "\n" + "\n".join(errors))
    return content


def check_paths(paths: list[Path], default_folder: Path) -> list[Problem]:
    """Problems of the given files and folders; single files are checked against their catalogue."""
    problems: list[Problem] = []
    for target in paths or [default_folder]:
        if target.is_dir():
            problems += check_folder(target)[1]
        elif not target.exists():
            problems.append(Problem(target, 1, 1, SAY("v_no_such_file")))
        elif target.name == CATALOGUE_FILE:
            problems += _load_catalogue(target.parent)[1]
        elif target.name == COURSE_FILE:
            problems += [p for p in check_folder(target.parent)[1] if p.path == target]
        else:
            folder = target.parent if (target.parent / CATALOGUE_FILE).is_file() else default_folder
            catalogue, _ = _load_catalogue(folder)
            rule_ids = {r.id for _, r in catalogue.rules()} if catalogue else None
            problems += load_scenario(target, rule_ids)[2]
    return sorted(problems)
