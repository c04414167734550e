from allauth.account.signals import user_signed_up
from django.dispatch import receiver

from tunery.orgs.services import create_personal_organization


@receiver(user_signed_up)
def give_new_user_an_organization(request, user, **kwargs) -> None:
    create_personal_organization(user)
