"""Render the Markdown cards (dataset card, model card, Space README) from ``datasets_cards/``.

Templates are Jinja2 files with YAML front matter. A template error names the template and the
line so the user knows which file to fix.
"""

from __future__ import annotations

from pathlib import Path

from .errors import UserError

TEMPLATES_DIR = Path(__file__).resolve().parents[1] / "datasets_cards"


def render_card(template_name: str, templates_dir: Path = TEMPLATES_DIR, **context) -> str:
    """Render ``templates_dir/template_name`` with ``context``; errors name the template."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir)),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    try:
        return env.get_template(template_name).render(**context)
    except jinja2.TemplateNotFound:
        raise UserError(f"card template {templates_dir / template_name} not found; restore it from the repository.") from None
    except jinja2.TemplateSyntaxError as e:
        raise UserError(f"card template {templates_dir / template_name}:{e.lineno}: {e.message}; fix the template.") from None
    except jinja2.UndefinedError as e:
        raise UserError(f"card template {templates_dir / template_name}: {e.message}; the template uses a value "
                        "the card data does not have.") from None
