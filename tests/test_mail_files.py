"""`make run`'s mail: one file per message under EMAIL_FILE_PATH, one console line each."""

from django.core import mail


def test_each_message_is_a_file_and_one_line(settings, tmp_path, capsys):
    settings.EMAIL_BACKEND = "sdrops.mail_files.OneLinePerMailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path / "mail")
    body = "\n".join(f"line {i}" for i in range(200))
    mail.send_mail("Disposition your meeting", body, None, ["abe@sdrops.example"])
    mail.send_mail("SLA breach", body, None, ["mona@sdrops.example"])
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2
    assert out[0].startswith("mail → abe@sdrops.example: Disposition your meeting  (")
    files = sorted((tmp_path / "mail").glob("*.eml"))
    assert len(files) == 2
    assert any("line 199" in f.read_text() for f in files)
