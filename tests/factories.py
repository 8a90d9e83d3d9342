"""factory_boy factories for every model the tests need."""

import factory
from django.contrib.auth import get_user_model

from admin_customisations.models import BackgroundJob


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    is_staff = True
    password = factory.django.Password("pw-test-123")


class BackgroundJobFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BackgroundJob

    name = factory.Sequence(lambda n: f"Job {n}")
    created_by = factory.SubFactory(UserFactory)
    total = 10
    done = 3
