from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("surveys", "0002_survey_use_knowledge_answer_sources"),
    ]

    operations = [
        migrations.AddField(
            model_name="question",
            name="themes",
            field=models.JSONField(
                blank=True,
                default=dict,
                help_text="Open text: themes coded by the LLM with verified quotes.",
                verbose_name="themes",
            ),
        ),
    ]
