from tests.factories import api_client, create_project, create_token


def test_project_api_lists_only_own_projects(db):
    user, token = create_token()
    mine = create_project(owner=user)
    create_project()
    resp = api_client(token).get("/api/v1/projects")
    assert resp.status_code == 200
    assert [p["id"] for p in resp.json()["items"]] == [str(mine.id)]
