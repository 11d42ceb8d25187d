"""`manage.py check --deploy` reports nothing with a production environment."""

from outcry.tests.django_subprocess import production_environment, run_manage


def test_check_deploy_reports_no_issues_with_production_environment():
    result = run_manage("check", "--deploy", "--fail-level", "DEBUG", env=production_environment())

    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues (0 silenced)." in output
    assert "WARNING" not in output


def test_check_deploy_flags_debug_left_on():
    """The check is live: the same environment with DEBUG on is reported."""
    result = run_manage("check", "--deploy", env=production_environment(DJANGO_DEBUG="true"))

    assert "security.W018" in result.stdout + result.stderr
