from rest_framework import serializers

from tunery.orgs.models import Membership, Organization


class OrganizationSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id", read_only=True)
    object = serializers.SerializerMethodField()
    slug = serializers.CharField(read_only=True)
    created_at = serializers.SerializerMethodField()

    class Meta:
        model = Organization
        fields = ["id", "object", "name", "slug", "created_at"]

    def get_object(self, organization) -> str:
        return "organization"

    def get_created_at(self, organization) -> int:
        return int(organization.created_at.timestamp())


class MemberSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id")
    object = serializers.SerializerMethodField()
    email = serializers.EmailField(source="user.email")
    added_at = serializers.SerializerMethodField()

    class Meta:
        model = Membership
        fields = ["id", "object", "email", "role", "added_at"]

    def get_object(self, membership) -> str:
        return "organization.user"

    def get_added_at(self, membership) -> int:
        return int(membership.created_at.timestamp())
