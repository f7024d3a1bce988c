from kefu.visits.models.config import Campaign, Questionnaire, QuestionnaireVersion, VisitRule
from kefu.visits.models.visit import Visit

__all__ = ["Campaign", "Questionnaire", "QuestionnaireVersion", "Visit", "VisitRule"]
