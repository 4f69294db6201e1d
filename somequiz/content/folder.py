"""Loading a content folder (catalogue, course, scenarios) and validating it as a whole."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from somequiz.content.checks import Reporter, check_scenario, check_translations
from somequiz.content.itemwriting import check_items, check_pasted
from somequiz.content.loader import Problem, SourceMap, load_model
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
    # Derived values (content hashes) computed once per loaded content; see somequiz.content.hashing.
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
        return None, [Problem(path, 1, 1, "sääntöluettelo puuttuu: lisää guideline.yaml")]
    catalogue, source, problems = load_model(path, Catalogue)
    if catalogue is not None and source is not None:
        ids = Counter(rule.id for _, rule in catalogue.rules())
        report = Reporter(path, source)
        for i, section in enumerate(catalogue.sections):
            for j, rule in enumerate(section.rules):
                if ids[rule.id] > 1:
                    report.error(
                        ("sections", i, "rules", j, "id"),
                        f"sääntö '{rule.id}' on kahdesti",
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
        if not any(p.level == "error" for p in problems):
            problems += check_items(path, scenario, source)
    return scenario, source, problems


def check_folder(folder: Path) -> tuple[Content | None, list[Problem]]:
    """Load and check every file of ``folder``; Content is None when errors prevent a course."""
    catalogue, problems = _load_catalogue(folder)
    rule_ids = {r.id for _, r in catalogue.rules()} if catalogue else None
    scenarios: dict[str, Scenario] = {}
    first_seen: dict[str, Path] = {}
    for path in scenario_files(folder):
        scenario, source, found = load_scenario(path, rule_ids)
        problems += found
        if scenario is None or source is None:
            continue
        if scenario.id in first_seen:
            problems.append(
                Problem(
                    path,
                    *source.position(("id",)),
                    f"skenaario '{scenario.id}' on jo tiedostossa {first_seen[scenario.id].name}",
                )
            )
            continue
        first_seen[scenario.id] = path
        scenarios[scenario.id] = scenario
    course_path = folder / COURSE_FILE
    course, course_source, found = (
        load_model(course_path, Course)
        if course_path.is_file()
        else (
            None,
            None,
            [Problem(course_path, 1, 1, "kurssin asetukset puuttuvat: lisää course.yaml")],
        )
    )
    problems += found
    if course is not None and course_source is not None:
        report = Reporter(course_path, course_source)
        for i, sid in enumerate(course.scenarios):
            if sid not in scenarios:
                report.error(("scenarios", i), f"skenaariota '{sid}' ei löydy kansiosta")
        for i, (sid, count) in enumerate(Counter(course.scenarios).items()):
            if count > 1:
                report.error(("scenarios", i), f"skenaario '{sid}' on kurssilla kahdesti")
        check_translations(report, course, [x for x in course.languages if x != "fi"])
        check_pasted(report, course)
        problems += report.problems
    problems.sort()
    if catalogue is None or course is None or any(p.level == "error" for p in problems):
        return None, problems
    return Content(catalogue, course, scenarios, folder, problems), problems


def load_content(folder: Path) -> Content:
    """The course content of ``folder``; raises ContentError with the first problems."""
    content, problems = check_folder(folder)
    if content is None:
        errors = [str(p) for p in problems if p.level == "error"][:5]
        raise ContentError(
            "Kurssin sisällössä on virheitä; korjaa ne ja tarkista komennolla "
            "'somequiz validate':\n" + "\n".join(errors)
        )
    return content


def check_paths(paths: list[Path], default_folder: Path) -> list[Problem]:
    """Problems of the given files and folders; single files are checked against their catalogue."""
    problems: list[Problem] = []
    for target in paths or [default_folder]:
        if target.is_dir():
            problems += check_folder(target)[1]
        elif not target.exists():
            problems.append(Problem(target, 1, 1, "tiedostoa ei ole"))
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
